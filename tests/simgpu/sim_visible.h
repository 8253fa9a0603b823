/* Which physical devices (sim_node.h) a process sees, and under which ordinals, as each vendor's
 * runtime works it out from the environment. The rules, their sources and what we chose where
 * the sources are silent are in docs/simgpu.md ("Visibility"). */
#ifndef GREY_SIM_VISIBLE_H
#define GREY_SIM_VISIBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "sim_node.h"

#pragma GCC visibility push(hidden)

struct sim_visible {
    int count;
    int phys[SIM_PHYS_MAX];   /* phys[ordinal] */
};

/* The CUDA driver's view: CUDA_DEVICE_ORDER, then CUDA_VISIBLE_DEVICES, then MIG's
 * one-instance rule (sim_visible_cuda.c). */
void sim_visible_cuda(const struct sim_settings *set, struct sim_visible *out);

/* The HIP runtime's view: ROCR_VISIBLE_DEVICES (ROCr), then HIP_VISIBLE_DEVICES or, when that is
 * unset, CUDA_VISIBLE_DEVICES (CLR) over what ROCr left (sim_visible_rocm.c). Whole GPUs only:
 * MIG is NVIDIA's. */
void sim_visible_hip(const struct sim_settings *set, struct sim_visible *out);

/* ------------------------------------------------------------------ shared by both (sim_visible_list.c) */
/* Copies the next comma-separated entry of *list into entry (cut to len - 1 bytes) and moves
 * *list past it and its comma. False at the end of the list: an empty list has no entry, and
 * nor does the empty text after a final comma. */
bool sim_list_next(const char **list, char *entry, size_t len);
/* Index of the one text among texts[0..n) that starts with prefix (letters compared without case
 * when fold), or -1 when none or several do. */
int sim_unique_prefix(const char *prefix, const char *const *texts, int n, bool fold);
/* Cuts the blanks off both ends of entry, in place; returns where it now starts. */
char *sim_list_trim(char *entry);
/* True when phys[0..n) holds p. */
bool sim_visible_has(const struct sim_visible *v, int p);

/* The ordinal of the device at a PCI bus id (sim_node_pci_parse's forms): SIM_PCI_MALFORMED for
 * text that is no bus id, SIM_PCI_ABSENT when no visible device sits there (hidden GPUs are not
 * found by their address either). */
#define SIM_PCI_MALFORMED (-2)
#define SIM_PCI_ABSENT    (-1)
int sim_visible_find_pci(const struct sim_visible *v, const char *text);

#pragma GCC visibility pop

#endif
