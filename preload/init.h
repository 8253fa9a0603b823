/* The hook's ways into a process's life: its constructor, destructor and fork handlers. */
#ifndef GREY_PRELOAD_INIT_H
#define GREY_PRELOAD_INIT_H

/* The fork handlers the constructor registers with pthread_atfork, for preload/audit.c: under
 * LD_AUDIT the program forks through its own C library, which knows nothing of ours. */
void grey_init_fork_handlers(void (**prepare)(void), void (**parent)(void), void (**child)(void));

#endif
