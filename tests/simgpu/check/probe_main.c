/* node_probe's entry point: dispatches on the API named by the first argument (probe.h). */
#include "probe.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void probe_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

void probe_same_pci(const char *api, int dev, const char *text, int domain, int bus, int device)
{
    char want[32];
    snprintf(want, sizeof want, "%04x:%02x:%02x.0", domain, bus, device);
    if (strcmp(want, text) != 0)
        FAIL("%s device %d: the bus id says %s, the attributes %s", api, dev, text, want);
}

void probe_wait_for_eof(void)
{
    char buf[64];
    while (read(0, buf, sizeof buf) > 0)
        ;
}

double probe_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

unsigned long long probe_bytes(const char *text)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end)
        FAIL("'%s' is not a number of bytes", text);
    return v;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2)
        FAIL("usage: node_probe cuda-...|hip-...|nvml-... (see tests/simgpu/check/probe.h)");
    if (strncmp(argv[1], "cuda-", 5) == 0)
        return probe_cuda(argc, argv);
    if (strncmp(argv[1], "hip-", 4) == 0)
        return probe_hip(argc, argv);
    if (strncmp(argv[1], "nvml-", 5) == 0)
        return probe_nvml(argc, argv);
    FAIL("unknown command '%s'", argv[1]);
}
