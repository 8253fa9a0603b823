/* Parsing `lspci -mm` (machine-readable, documented in lspci(8)): one device per line, the slot,
 * then quoted class, vendor, device, optional -rREV / -pPROGIF, then subsystem vendor and device.
 * With -nn every name carries its numeric id in brackets ("NVIDIA Corporation [10de]"); with -D
 * the slot has its PCI domain. Both forms are accepted. grey's last resort: it proves a GPU is
 * there and names it, but says nothing about its memory. */
#ifndef GREY_LSPCI_PARSE_H
#define GREY_LSPCI_PARSE_H

#include <stddef.h>

#include "gpu_facts.h"

/* The display controllers (PCI classes 0300 VGA, 0302 3D, 0380 display) in text, as devices with
 * a vendor, a name and a PCI address, and nothing else known. Malformed lines are noted and
 * skipped. Returns the number of devices. */
int lspci_parse(const char *text, size_t len, struct gpu_list *out);

#endif
