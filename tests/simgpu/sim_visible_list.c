/* The list handling both visibility parsers share (sim_visible.h). */
#include "sim_visible.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

bool sim_list_next(const char **list, char *entry, size_t len)
{
    const char *p = *list;
    if (!p || !*p)
        return false;
    size_t n = strcspn(p, ",");
    size_t keep = n < len - 1 ? n : len - 1;
    memcpy(entry, p, keep);
    entry[keep] = '\0';
    *list = p[n] == ',' ? p + n + 1 : p + n;
    return true;
}

int sim_unique_prefix(const char *prefix, const char *const *texts, int n, bool fold)
{
    size_t plen = strlen(prefix);
    int found = -1;
    for (int i = 0; i < n; i++) {
        if ((fold ? strncasecmp(texts[i], prefix, plen) : strncmp(texts[i], prefix, plen)) != 0)
            continue;
        if (found >= 0)
            return -1;
        found = i;
    }
    return found;
}

bool sim_visible_has(const struct sim_visible *v, int p)
{
    for (int i = 0; i < v->count; i++)
        if (v->phys[i] == p)
            return true;
    return false;
}

char *sim_list_trim(char *entry)
{
    while (isspace((unsigned char)*entry))
        entry++;
    size_t len = strlen(entry);
    while (len > 0 && isspace((unsigned char)entry[len - 1]))
        entry[--len] = '\0';
    return entry;
}

int sim_visible_find_pci(const struct sim_visible *v, const char *text)
{
    struct sim_pci want;
    if (sim_node_pci_parse(text, &want) != 0)
        return SIM_PCI_MALFORMED;
    for (int i = 0; i < v->count; i++)
        if (sim_node_pci_equal(sim_node_pci(v->phys[i]), want))
            return i;
    return SIM_PCI_ABSENT;
}
