/* A statically linked program: LD_PRELOAD cannot reach it, so grey-run must say that no limit
 * was enforced. Built with -static by the Makefile. */
int main(void) { return 0; }
