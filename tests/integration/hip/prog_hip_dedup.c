/* The HIP twin of prog_dedup's upload test, for the buffer report's integration tests
 * (tests/integration/dedup_tests.sh), on the simulated HIP runtime. Built with -g so that the
 * report can name the allocating functions (kept out of line and out of folding: noipa).
 *
 *   prog_hip_dedup upload KIND FREE   four 8 MiB buffers (load_weights x3, load_other x1, by
 *                                     hipMalloc); the same bytes uploaded to the first three, other
 *                                     bytes to the fourth, with hipMemcpy (KIND: htod,
 *                                     hipMemcpyHostToDevice; default, hipMemcpyDefault). FREE=1
 *                                     frees all four before exit (the upload fingerprints), FREE=0
 *                                     leaves them to the exit snapshot (read back with hipMemcpy).
 *   prog_hip_dedup reset              the same buffers, filled on the device only (hipMemset of
 *                                     the same byte into three), then hipDeviceReset: the
 *                                     snapshot before the reset must find the group.
 *
 * Prints the buffers' addresses ("buffer NAME 0x...") and "FAIL: ..." with exit 1 on any error. */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MiB (1u << 20)
#define SIZE (8 * MiB)

#define CK(call)                                                                                   \
    do {                                                                                           \
        hipError_t rc_ = (call);                                                                   \
        if (rc_ != hipSuccess) {                                                                   \
            printf("FAIL: %s: error %d\n", #call, (int)rc_);                                       \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 131u + seed * 7u + (i >> 12)) & 0xff);
}

__attribute__((noinline, noipa)) static void *load_weights(void)
{
    void *d;
    CK(hipMalloc(&d, SIZE));
    return d;
}

__attribute__((noinline, noipa)) static void *load_other(void)
{
    void *d;
    CK(hipMalloc(&d, SIZE));
    return d;
}

static int run(const char *mode, const char *kind_name, int free_before_exit)
{
    hipMemcpyKind kind = strcmp(kind_name, "default") == 0 ? hipMemcpyDefault : hipMemcpyHostToDevice;
    CK(hipSetDevice(0));
    unsigned char *same = malloc(SIZE), *other = malloc(SIZE);
    if (!same || !other)
        return 1;
    fill(same, SIZE, 1);
    fill(other, SIZE, 2);
    void *w[3], *o;
    for (int i = 0; i < 3; i++)
        w[i] = load_weights();
    o = load_other();
    if (strcmp(mode, "reset") == 0) {
        for (int i = 0; i < 3; i++)
            CK(hipMemset(w[i], 0x5a, SIZE));
        CK(hipMemset(o, 0x11, SIZE));
    } else {
        for (int i = 0; i < 3; i++)
            CK(hipMemcpy(w[i], same, SIZE, kind));
        CK(hipMemcpy(o, other, SIZE, kind));
        /* A read back through the wrapper must leave the contents (and the groups) alone. */
        unsigned char probe[64];
        CK(hipMemcpy(probe, w[0], sizeof probe, hipMemcpyDeviceToHost));
        if (memcmp(probe, same, sizeof probe) != 0) {
            printf("FAIL: read back differs\n");
            return 1;
        }
    }
    CK(hipDeviceSynchronize());
    for (int i = 0; i < 3; i++)
        printf("buffer weights%d %p\n", i, w[i]);
    printf("buffer other %p\n", o);
    fflush(stdout);
    if (strcmp(mode, "reset") == 0) {
        CK(hipDeviceReset());
    } else if (free_before_exit) {
        for (int i = 0; i < 3; i++)
            CK(hipFree(w[i]));
        CK(hipFree(o));
    }
    free(same);
    free(other);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "upload") == 0)
        return run("upload", argv[2], atoi(argv[3]));
    if (argc == 2 && strcmp(argv[1], "reset") == 0)
        return run("reset", "htod", 0);
    fprintf(stderr, "usage: prog_hip_dedup upload htod|default 0|1 | prog_hip_dedup reset\n");
    return 2;
}
