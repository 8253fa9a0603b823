/* Prometheus text format for the ledger (see metrics.h). Metric names follow Prometheus
 * conventions: base units (bytes), _total for counters, one family per quantity with the GPU
 * as labels (gpu_labels). */
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>

struct out {
    FILE *f;
    bool failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (vfprintf(o->f, fmt, ap) < 0)
        o->failed = true;
    va_end(ap);
}

static void family(struct out *o, const char *name, const char *type, const char *help)
{
    put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format requires (backslash, double quote, newline). Commands
 * are already printable ASCII (ledger_view.c); the escaping keeps quotes and backslashes. */
static void label_value(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            put(o, "\\%c", *s);
        else if (*s == '\n')
            put(o, "\\n");
        else
            put(o, "%c", *s);
    }
}

static void process_labels(struct out *o, const struct grey_view_process *p)
{
    put(o, "{pid=\"%" PRId32 "\",user=\"", p->pid);
    label_value(o, p->user[0] ? p->user : "unknown");
    put(o, "\",command=\"");
    label_value(o, p->command);
    put(o, "\"");
}

/* A GPU's labels: gpu (the physical index, nvidia-smi's number), uuid, pci_bus_id, device
 * ("nvidia<index>", the device node) and model_name. They carry what the DCGM exporter's gpu, UUID,
 * pci_bus_id, device and modelName carry, in the snake_case Prometheus asks of label names
 * (README, "Metrics", shows the relabelling that joins the two). */
static void gpu_labels(struct out *o, const struct grey_view *v, int d)
{
    const struct grey_gpu_id *g = &v->gpu[d];
    if (!(v->gpus & GREY_DEVBIT(d))) {
        put(o, "gpu=\"%d\"", d);
        return;
    }
    int index = g->index >= 0 ? g->index : d;
    put(o, "gpu=\"%d\",uuid=\"", index);
    label_value(o, g->uuid);
    put(o, "\",pci_bus_id=\"");
    label_value(o, g->pci_bus_id);
    put(o, "\",device=\"nvidia%d\",model_name=\"", index);
    label_value(o, g->name);
    put(o, "\"");
}

/* One sample per (process, device it used) of the device counter at offset field. */
static void per_process_device(struct out *o, const struct grey_view *v, const char *name, size_t field,
                               bool skip_uncapped)
{
    for (unsigned i = 0; i < v->nprocs; i++) {
        const struct grey_view_process *p = &v->proc[i];
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            if (!(p->devices & GREY_DEVBIT(d)))
                continue;
            uint64_t value;
            memcpy(&value, (const char *)&p->dev[d] + field, sizeof value);
            if (skip_uncapped && value == UINT64_MAX)
                continue;
            put(o, "%s", name);
            process_labels(o, p);
            put(o, ",");
            gpu_labels(o, v, d);
            put(o, "} %" PRIu64 "\n", value);
        }
    }
}

#define FIELD(f) offsetof(struct grey_view_device, f)

int grey_metrics_write(FILE *f, const struct grey_view *v)
{
    struct out o = {f, false};

    family(&o, "grey_device_vram_budget_bytes", "gauge",
           "VRAM that all hooked processes on the device may use together (absent: no budget).");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if ((v->devices & GREY_DEVBIT(d)) && v->budget[d] != UINT64_MAX) {
            put(&o, "grey_device_vram_budget_bytes{");
            gpu_labels(&o, v, d);
            put(&o, "} %" PRIu64 "\n", v->budget[d]);
        }
    family(&o, "grey_device_vram_used_bytes", "gauge", "VRAM that hooked processes hold on the device now.");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (v->devices & GREY_DEVBIT(d)) {
            put(&o, "grey_device_vram_used_bytes{");
            gpu_labels(&o, v, d);
            put(&o, "} %" PRIu64 "\n", v->used[d]);
        }

    family(&o, "grey_processes", "gauge", "Live processes registered in the ledger.");
    put(&o, "grey_processes %u\n", v->nprocs);
    family(&o, "grey_stale_processes", "gauge",
           "Dead processes whose bytes are still counted (this reader could not reclaim them).");
    put(&o, "grey_stale_processes %u\n", v->stale);
    family(&o, "grey_ledger_reclaimed_processes_total", "counter",
           "Slots of dead processes whose bytes a reclaim gave back to the budgets.");
    put(&o, "grey_ledger_reclaimed_processes_total %" PRIu64 "\n", v->reclaimed_slots);
    family(&o, "grey_ledger_reclaimed_bytes_total", "counter", "Bytes that reclaims gave back to the budgets.");
    put(&o, "grey_ledger_reclaimed_bytes_total %" PRIu64 "\n", v->reclaimed_bytes);
    family(&o, "grey_ledger_orphaned_bytes_total", "counter",
           "Bytes a process killed in the middle of an allocation or a free left counted, returned once "
           "the ledger was idle.");
    put(&o, "grey_ledger_orphaned_bytes_total %" PRIu64 "\n", v->orphaned_bytes);

    family(&o, "grey_process_vram_used_bytes", "gauge", "VRAM the process holds on the device now.");
    per_process_device(&o, v, "grey_process_vram_used_bytes", FIELD(used), false);
    family(&o, "grey_process_vram_peak_bytes", "gauge", "Most VRAM the process held on the device at once.");
    per_process_device(&o, v, "grey_process_vram_peak_bytes", FIELD(peak), false);
    family(&o, "grey_process_vram_cap_bytes", "gauge", "The process's VRAM cap on the device (absent: no cap).");
    per_process_device(&o, v, "grey_process_vram_cap_bytes", FIELD(cap), true);
    family(&o, "grey_process_allocations_total", "counter", "Device allocations the process made.");
    per_process_device(&o, v, "grey_process_allocations_total", FIELD(allocs), false);
    family(&o, "grey_process_allocations_denied_total", "counter",
           "Device allocations grey refused because of a cap or a budget.");
    per_process_device(&o, v, "grey_process_allocations_denied_total", FIELD(denied), false);

    family(&o, "grey_process_kernel_launches_total", "counter", "Kernel launches the process made.");
    for (unsigned i = 0; i < v->nprocs; i++) {
        put(&o, "grey_process_kernel_launches_total");
        process_labels(&o, &v->proc[i]);
        put(&o, "} %" PRIu64 "\n", v->proc[i].launches);
    }
    if (fflush(f) != 0)
        o.failed = true;
    return o.failed ? -1 : 0;
}
