/* node_probe: what each simulated API says about the node, one line per device, for
 * tests/simgpu/check/node_tests.sh to compare (docs/simgpu.md, "Tests").
 *
 *   node_probe cuda-list                    every CUDA ordinal: uuid, pci, vram, free, sms, name
 *   node_probe cuda-hold ORDINAL BYTES      cuMemAlloc BYTES, print "held PID", exit at EOF on stdin
 *   node_probe cuda-alloc ORDINAL BYTES     print free, then the result of cuMemAlloc BYTES
 *   node_probe cuda-kernel ORDINAL US sync|nosync
 *                                           launch a US-microsecond kernel; with sync, print how
 *                                           long launch + cuCtxSynchronize took
 *   node_probe hip-list | hip-alloc ORDINAL BYTES | hip-kernel ORDINAL US    the HIP twins
 *   node_probe hip-timed ORDINAL US   a US-us kernel between two HIP events after a 5 ms warm-up
 *                                     kernel (the pair spans the kernel alone): "elapsed-us E"
 *   node_probe nvml-list                    every NVML GPU (and MIG instance): uuid, pci, memory
 *   node_probe nvml-procs INDEX             the processes on NVML GPU INDEX, by v1, v2 and v3
 *   node_probe nvml-links                   P2P status of every GPU pair and the NVLink, field,
 *                                           fabric, platform and CC answers (what NCCL asks)
 *
 * Besides printing, each listing checks that the API agrees with itself (the PCI attributes with
 * the bus id text, lookups by bus id and UUID with the device they came from, the context's
 * total with the device's); a disagreement prints "FAIL: ..." and exits 1. */
#ifndef GREY_NODE_PROBE_H
#define GREY_NODE_PROBE_H

#include <stdio.h>
#include <stdlib.h>

/* Prints "FAIL: " and the message, and exits 1. */
_Noreturn void probe_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define FAIL(...) probe_fail(__VA_ARGS__)

int probe_cuda(int argc, char **argv);
int probe_hip(int argc, char **argv);
int probe_nvml(int argc, char **argv);

/* The PCI address of an API's device dev, from its text and from its domain/bus/device
 * attributes, must agree; fails with the API's name otherwise. */
void probe_same_pci(const char *api, int dev, const char *text, int domain, int bus, int device);
/* Blocks until stdin reaches end of file (the test closes its end to let a holder exit). */
void probe_wait_for_eof(void);
/* Milliseconds on the monotonic clock. */
double probe_now_ms(void);
unsigned long long probe_bytes(const char *text);

#endif
