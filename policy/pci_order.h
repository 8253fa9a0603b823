/* The physical index of a GPU without NVML: GPUs are numbered in PCI bus order (as NVML and
 * nvidia-smi number them), counted from sysfs. Used when no NVML library is there to ask (AMD
 * nodes, containers without NVML mounted). */
#ifndef GREY_PCI_ORDER_H
#define GREY_PCI_ORDER_H

/* The position of bus_id ("0000:17:00.0") among the display controllers of vendor (0x10de
 * NVIDIA, 0x1002 AMD) under sysfs_root ("/sys/bus/pci/devices"), in bus order; -1 when it is not
 * there or sysfs cannot be read. */
int grey_pci_index(const char *bus_id, unsigned vendor, const char *sysfs_root);

#endif
