/* Deciding whether a file's owner is the node's root (see file_owner.h). */
#include "file_owner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small /proc file whole into buf; false when it cannot. */
static bool read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    size_t have = 0;
    while (have + 1 < len) {
        ssize_t n = read(fd, buf + have, len - 1 - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    close(fd);
    buf[have] = '\0';
    return have > 0;
}

/* The outer id that id maps to through a uid_map/gid_map text; false when it is not mapped. */
static bool map_id(const char *map, unsigned long long id, unsigned long long *outer)
{
    /* Each line: first uid inside, first uid outside, count. */
    const char *p = map;
    while (*p) {
        char *end;
        unsigned long long inside = strtoull(p, &end, 10);
        if (end == p)
            break;
        p = end;
        unsigned long long outside = strtoull(p, &end, 10);
        if (end == p)
            break;
        p = end;
        unsigned long long count = strtoull(p, &end, 10);
        if (end == p)
            break;
        p = end;
        if (id >= inside && id - inside < count) {
            *outer = outside + (id - inside);
            return true;
        }
        while (*p && *p != '\n')
            p++;
        while (*p == '\n')
            p++;
    }
    return false;
}

bool grey_owner_is_root_in(uid_t uid, const char *map, uid_t overflow)
{
    if (!map)
        return uid == 0;
    unsigned long long outer;
    if (map_id(map, uid, &outer))
        return outer == 0;
    /* Not mapped here: the kernel shows such owners as the overflow uid. */
    return uid == overflow;
}

bool grey_owner_is_root(uid_t uid)
{
    char map[4096], ov[32];
    uid_t overflow = 65534;
    if (read_small("/proc/sys/kernel/overflowuid", ov, sizeof ov))
        overflow = (uid_t)strtoul(ov, NULL, 10);
    return grey_owner_is_root_in(uid, read_small("/proc/self/uid_map", map, sizeof map) ? map : NULL, overflow);
}

bool grey_group_unmapped(gid_t gid)
{
    char map[4096], ov[32];
    if (!read_small("/proc/sys/kernel/overflowgid", ov, sizeof ov) || (gid_t)strtoul(ov, NULL, 10) != gid ||
        !read_small("/proc/self/gid_map", map, sizeof map))
        return false;
    unsigned long long outer;
    return !map_id(map, gid, &outer);
}

uid_t grey_outer_uid(uid_t uid)
{
    char map[4096];
    unsigned long long outer;
    if (!read_small("/proc/self/uid_map", map, sizeof map) || !map_id(map, uid, &outer) || outer > UINT32_MAX)
        return uid;
    return (uid_t)outer;
}
