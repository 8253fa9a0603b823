/* The simulators' VMM memory files (sim_vmm_fd.h). */
#include "sim_vmm_fd.h"

#include "sim_node.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEMFD_NAME "grey-sim-vmm-phys-" /* then the physical device's id */

int sim_vmm_memfd(int phys, size_t size)
{
    char name[64];
    snprintf(name, sizeof name, MEMFD_NAME "%d", phys);
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

int sim_vmm_reopen(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    return open(path, O_RDWR | O_CLOEXEC);
}

uint64_t sim_vmm_key(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0;
    uint64_t key = (uint64_t)st.st_dev << 40 ^ (uint64_t)st.st_ino;
    return key ? key : 1;
}

int sim_vmm_exported(int fd, uint64_t *size)
{
    char link[64], target[128];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = fd >= 0 ? readlink(link, target, sizeof target - 1) : -1;
    if (n <= 0)
        return -1;
    target[n] = '\0';
    const char *prefix = "/memfd:" MEMFD_NAME;
    if (strncmp(target, prefix, strlen(prefix)) != 0)
        return -1;
    char *end;
    long phys = strtol(target + strlen(prefix), &end, 10);
    struct stat st;
    if (end == target + strlen(prefix) || phys < 0 || phys >= SIM_PHYS_MAX || fstat(fd, &st) != 0 || st.st_size <= 0)
        return -1;
    *size = (uint64_t)st.st_size;
    return (int)phys;
}
