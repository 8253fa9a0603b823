/* The HIP twin of fair_load.c, for the HIP fair-share test (tests/fairshare/run.sh): a HIP process
 * that keeps the simulated device busy.
 *
 *   hip_fair_load --from T0 --until T1 [--depth D] [--kernel NAME] [--entry module|launch]
 *
 * Launches NAME (default work_us200: 200 us on the simulated device, which the simulated HIP
 * runtime queues on the device timeline it shares with the simulated CUDA driver) back to back
 * with hipModuleLaunchKernel (--entry launch: hipLaunchKernel, whose kernels take
 * GREY_SIM_KERNEL_US), keeping D (default 4) in flight: after each launch it records an event,
 * and before each launch it waits for the event D launches back (hipEventSynchronize sleeps), so
 * D deep (up to 4096) queues the way frameworks do.
 * T0 and T1 are CLOCK_MONOTONIC ns: kernels seen complete in [T0, T1] are counted; launches stop
 * at T1. Prints one JSON object: completed (in the window), launched, max_launch_ns, and done_ns
 * (when the last kernel was seen complete). */
#define __HIP_PLATFORM_AMD__ 1
#include <hip/hip_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DEPTH 4096 /* as deep as frameworks queue (fair_load.c's limit too) */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CK(call)                                                                   \
    do {                                                                           \
        hipError_t r_ = (call);                                                    \
        if (r_ != hipSuccess) {                                                    \
            fprintf(stderr, "hip_fair_load: %s failed (%d)\n", #call, (int)r_);    \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

static void kernel_stub(void) {}

int main(int argc, char **argv)
{
    uint64_t from = 0, until = 0;
    int depth = 4;
    const char *kernel = "work_us200", *entry = "module";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--from"))
            from = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--until"))
            until = strtoull(v, NULL, 10);
        else if (!strcmp(k, "--depth"))
            depth = atoi(v);
        else if (!strcmp(k, "--kernel"))
            kernel = v;
        else if (!strcmp(k, "--entry"))
            entry = v;
        else {
            fprintf(stderr, "hip_fair_load: unknown option %s\n", k);
            return 2;
        }
    }
    if (!until || depth < 1 || depth > MAX_DEPTH) {
        fprintf(stderr, "usage: hip_fair_load --from T0 --until T1 [--depth 1..4096] [--kernel NAME] "
                        "[--entry module|launch]\n");
        return 2;
    }
    bool module = strcmp(entry, "launch") != 0;
    hipModule_t mod;
    hipFunction_t f;
    hipStream_t stream;
    CK(hipSetDevice(0));
    CK(hipModuleLoadData(&mod, "hip_fair_load"));
    CK(hipModuleGetFunction(&f, mod, kernel));
    CK(hipStreamCreate(&stream));
    hipEvent_t *ev = calloc((size_t)depth, sizeof *ev);
    if (!ev)
        return 1;
    for (int i = 0; i < depth; i++)
        CK(hipEventCreateWithFlags(&ev[i], hipEventDisableTiming));
    uint64_t launched = 0, completed = 0, max_launch = 0, t;
    dim3 one = {1, 1, 1};
    while ((t = now_ns()) < until) {
        int k = (int)(launched % (uint64_t)depth);
        if (launched >= (uint64_t)depth) {
            CK(hipEventSynchronize(ev[k]));
            t = now_ns();
            if (t >= from && t <= until)
                completed++;
            if (t >= until)
                break;
        }
        hipError_t r = module ? hipModuleLaunchKernel(f, 1, 1, 1, 1, 1, 1, 0, stream, NULL, NULL)
                              : hipLaunchKernel((const void *)kernel_stub, one, one, NULL, 0, stream);
        uint64_t t2 = now_ns();
        CK(r);
        if (t >= from && t2 - t > max_launch)
            max_launch = t2 - t;
        CK(hipEventRecord(ev[k], stream));
        launched++;
    }
    for (uint64_t i = launched > (uint64_t)depth ? launched - (uint64_t)depth : 0; i < launched; i++) {
        CK(hipEventSynchronize(ev[i % (uint64_t)depth]));
        t = now_ns();
        if (t >= from && t <= until)
            completed++;
    }
    printf("{\"pid\": %d, \"completed\": %llu, \"launched\": %llu, \"max_launch_ns\": %llu, \"done_ns\": %llu}\n",
           (int)getpid(), (unsigned long long)completed, (unsigned long long)launched, (unsigned long long)max_launch,
           (unsigned long long)now_ns());
    return 0;
}
