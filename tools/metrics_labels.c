/* Label writing for the metrics (metrics_out.h). */
#include "metrics_out.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void metrics_put(struct metrics_out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0)
        o->failed = true;
    va_end(ap);
}

void metrics_family(struct metrics_out *o, const char *name, const char *type, const char *help)
{
    metrics_put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_label_value(struct metrics_out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            metrics_put(o, "\\%c", *s);
        else if (*s == '\n')
            metrics_put(o, "\\n");
        else
            metrics_put(o, "%c", *s);
    }
}

void metrics_pci_dcgm(const char *in, char *out, size_t len)
{
    unsigned dom, bus, dev, fn;
    int used = 0;
    if (sscanf(in, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &used) == 4 && in[used] == '\0' && bus <= 0xff &&
        dev <= 0x1f && fn <= 7)
        snprintf(out, len, "%08X:%02X:%02X.%X", dom, bus, dev, fn);
    else
        snprintf(out, len, "%s", in);
}

/* DCGM's names, cased as DCGM writes them (UUID, modelName, Hostname): the point is that
 * `on (UUID)` or `on (gpu, Hostname)` joins grey's series with DCGM's as they come. */
void metrics_gpu_labels(struct metrics_out *o, const struct grey_view *v, int d)
{
    const struct grey_gpu_id *g = &v->gpu[d];
    if (!(v->gpus & GREY_DEVBIT(d))) {
        metrics_put(o, "gpu=\"%d\",Hostname=\"", d);
        metrics_label_value(o, o->hostname);
        metrics_put(o, "\"");
        return;
    }
    int index = g->index >= 0 ? g->index : d;
    char pci[64];
    metrics_pci_dcgm(g->pci_bus_id, pci, sizeof pci);
    metrics_put(o, "gpu=\"%d\",UUID=\"", index);
    metrics_label_value(o, g->uuid);
    metrics_put(o, "\",pci_bus_id=\"");
    metrics_label_value(o, pci);
    metrics_put(o, "\",device=\"nvidia%d\",modelName=\"", index);
    metrics_label_value(o, g->name);
    metrics_put(o, "\",Hostname=\"");
    metrics_label_value(o, o->hostname);
    metrics_put(o, "\"");
}
