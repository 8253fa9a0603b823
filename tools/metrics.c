/* Prometheus text format for the ledger (see metrics.h): the node's and the GPUs' series here,
 * the jobs' in metrics_jobs.c, the optional per-process ones in metrics_process.c. Names follow
 * Prometheus conventions: base units (bytes, seconds), _total for counters, one family per
 * quantity with the GPU as labels. */
#include "metrics.h"

#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "policy/thermal.h"
#include "cli_common.h"
#include "metrics_out.h"

/* Processes of the view that use row d (bytes or launches). */
static unsigned processes_on(const struct grey_view *v, int d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < v->nprocs; i++)
        if (v->proc[i].devices & GREY_DEVBIT(d))
            n++;
    return n;
}

static void device_u64(struct metrics_out *o, const struct grey_view *v, const char *name, int d, uint64_t value)
{
    metrics_put(o, "%s{", name);
    metrics_gpu_labels(o, v, d);
    metrics_put(o, "} %" PRIu64 "\n", value);
}

static void write_devices(struct metrics_out *o, const struct grey_view *v)
{
    metrics_family(o, "grey_device_vram_budget_bytes", "gauge",
                   "VRAM that all hooked processes on the device may use together (absent: no budget).");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if ((v->devices & GREY_DEVBIT(d)) && v->budget[d] != UINT64_MAX)
            device_u64(o, v, "grey_device_vram_budget_bytes", d, v->budget[d]);
    metrics_family(o, "grey_device_vram_used_bytes", "gauge", "VRAM that hooked processes hold on the device now.");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (v->devices & GREY_DEVBIT(d))
            device_u64(o, v, "grey_device_vram_used_bytes", d, v->used[d]);
    metrics_family(o, "grey_device_processes", "gauge", "Live hooked processes using the device (bytes or launches).");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (v->devices & GREY_DEVBIT(d))
            device_u64(o, v, "grey_device_processes", d, processes_on(v, d));
    metrics_family(o, "grey_device_contended", "gauge",
                   "1 while processes take turns on the device (fair share is being enforced), else 0.");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (v->devices & GREY_DEVBIT(d))
            device_u64(o, v, "grey_device_contended", d, (v->contended & GREY_DEVBIT(d)) ? 1 : 0);
    metrics_family(o, "grey_device_turn_handoffs_total", "counter",
                   "Times the device's turn passed from one process to another.");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (v->devices & GREY_DEVBIT(d))
            device_u64(o, v, "grey_device_turn_handoffs_total", d, v->handoffs[d]);
}

/* The thermal back-off (policy/thermal.h), for the GPUs whose temperature a hooked process
 * sampled: the temperature, the level (0 cool, 1 over cooldown_temp, 2 over throttle_temp; a dry
 * run decides the level and applies nothing) and the share of the GPU its processes may use
 * together (1 when nothing is imposed). */
static void write_thermal(struct metrics_out *o, const struct grey_view *v)
{
    static const char *const names[] = {"grey_device_temperature_celsius", "grey_device_thermal_level",
                                        "grey_device_thermal_ceiling_ratio"};
    static const char *const help[] = {
        "The GPU's temperature as the hooked processes last sampled it (at most once a second).",
        "Thermal back-off: 0 cool, 1 over the plan's cooldown_temp, 2 over its throttle_temp.",
        "Share of the GPU its hooked processes may use together under the thermal back-off (1: no limit)."};
    for (int k = 0; k < 3; k++) {
        metrics_family(o, names[k], "gauge", help[k]);
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            struct grey_thermal_word w = grey_thermal_unpack(v->thermal[d]);
            if (!(v->devices & GREY_DEVBIT(d)) || !w.sampled)
                continue;
            metrics_put(o, "%s{", names[k]);
            metrics_gpu_labels(o, v, d);
            if (k == 0)
                metrics_put(o, "} %u\n", w.temp_c);
            else if (k == 1)
                metrics_put(o, ",dry_run=\"%s\"} %d\n", w.dry_run ? "true" : "false", (int)w.level);
            else
                metrics_put(o, "} %.4g\n", w.dry_run || !w.device_share ? 1.0 : w.device_share / 10000.0);
        }
    }
}

static void write_node(struct metrics_out *o, const struct grey_view *v)
{
    metrics_family(o, "grey_build_info", "gauge", "Always 1; the version of grey that serves these metrics.");
    metrics_put(o, "grey_build_info{version=\"");
    metrics_label_value(o, cli_version_string());
    metrics_put(o, "\"} 1\n");
    metrics_family(o, "grey_processes", "gauge", "Live processes registered in the ledger.");
    metrics_put(o, "grey_processes %u\n", v->nprocs);
    metrics_family(o, "grey_stale_processes", "gauge",
                   "Dead processes whose bytes are still counted (this reader could not reclaim them).");
    metrics_put(o, "grey_stale_processes %u\n", v->stale);
    metrics_family(o, "grey_ledger_reclaimed_processes_total", "counter",
                   "Slots of dead processes whose bytes a reclaim gave back to the budgets.");
    metrics_put(o, "grey_ledger_reclaimed_processes_total %" PRIu64 "\n", v->reclaimed_slots);
    metrics_family(o, "grey_ledger_reclaimed_bytes_total", "counter", "Bytes that reclaims gave back to the budgets.");
    metrics_put(o, "grey_ledger_reclaimed_bytes_total %" PRIu64 "\n", v->reclaimed_bytes);
    metrics_family(o, "grey_ledger_orphaned_bytes_total", "counter",
                   "Bytes a process killed in the middle of an allocation or a free left counted, returned once "
                   "the ledger was idle.");
    metrics_put(o, "grey_ledger_orphaned_bytes_total %" PRIu64 "\n", v->orphaned_bytes);
}

int grey_metrics_write(FILE *f, const struct grey_view *v, const struct grey_metrics_options *opt)
{
    static const struct grey_metrics_options defaults;
    struct metrics_out o = {.f = f, .opt = opt ? opt : &defaults};
    if (o.opt->hostname && *o.opt->hostname)
        snprintf(o.hostname, sizeof o.hostname, "%s", o.opt->hostname);
    else if (gethostname(o.hostname, sizeof o.hostname - 1) != 0)
        snprintf(o.hostname, sizeof o.hostname, "localhost");
    write_node(&o, v);
    write_devices(&o, v);
    write_thermal(&o, v);
    metrics_write_jobs(&o, v);
    if (o.opt->per_process)
        metrics_write_processes(&o, v);
    if (fflush(f) != 0)
        o.failed = true;
    return o.failed ? -1 : 0;
}
