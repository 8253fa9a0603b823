#include "pci_order.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger_gpu.h"

/* A small sysfs attribute ("0x10de\n") as a number; -1 when unreadable. */
static long read_hex(const char *dir, const char *name, const char *attr)
{
    char path[512], buf[32];
    snprintf(path, sizeof path, "%s/%s/%s", dir, name, attr);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    char *end;
    long v = strtol(buf, &end, 16);
    return end == buf ? -1 : v;
}

int grey_pci_index(const char *bus_id, unsigned vendor, const char *sysfs_root)
{
    char want[GREY_PCI_ID_MAX];
    if (grey_pci_normalize(bus_id, want) != 0)
        return -1;
    DIR *d = opendir(sysfs_root);
    if (!d)
        return -1;
    int before = 0;
    bool found = false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char addr[GREY_PCI_ID_MAX];
        if (e->d_name[0] == '.' || grey_pci_normalize(e->d_name, addr) != 0)
            continue;
        long cls = read_hex(sysfs_root, e->d_name, "class");
        /* Display controllers: VGA (0x0300xx) and 3D (0x0302xx), where data-centre GPUs are. */
        if (read_hex(sysfs_root, e->d_name, "vendor") != (long)vendor || cls < 0 || (cls >> 16) != 0x03)
            continue;
        int c = strcmp(addr, want);
        if (c == 0)
            found = true;
        else if (c < 0)
            before++;
    }
    closedir(d);
    return found ? before : -1;
}
