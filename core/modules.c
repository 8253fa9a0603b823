#include "modules.h"

#include <link.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void grey_module_span(const struct dl_phdr_info *info, uintptr_t *lo_out, uintptr_t *hi_out)
{
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        if (a < lo)
            lo = a;
        if (a + ph->p_memsz > hi)
            hi = a + ph->p_memsz;
    }
    *lo_out = lo;
    *hi_out = hi;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    struct grey_module_map *map = arg;
    if (map->n >= GREY_MODULES_MAX)
        return 1;
    uintptr_t lo, hi;
    grey_module_span(info, &lo, &hi);
    if (hi == 0)
        return 0;
    struct grey_module *m = &map->m[map->n++];
    m->lo = lo;
    m->hi = hi;
    m->bias = info->dlpi_addr;
    m->out_id = -1;
    const char *name = info->dlpi_name;
    if (!name || !*name) {
        /* The program itself is listed without a name. */
        ssize_t len = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
        m->path[len > 0 ? len : 0] = '\0';
    } else {
        snprintf(m->path, sizeof m->path, "%s", name);
    }
    return 0;
}

void grey_modules_load(struct grey_module_map *map)
{
    map->n = 0;
    dl_iterate_phdr(add_module, map);
}

struct grey_module *grey_modules_find(struct grey_module_map *map, uintptr_t address)
{
    for (unsigned i = 0; i < map->n; i++)
        if (address >= map->m[i].lo && address < map->m[i].hi)
            return &map->m[i];
    return NULL;
}
