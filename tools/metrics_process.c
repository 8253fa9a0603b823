/* Per-process series, written only when asked (--per-process): one set per pid, so they churn
 * with every process that comes and goes. They carry a pid, the job's grey_run_id and, only with
 * --process-names, the program's basename: never the command line, whose arguments may hold
 * anything (paths, tokens) and would be served to whoever can reach the port. */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "fair_shares.h"
#include "metrics_out.h"

/* The basename of argv[0]: the command is argv joined by spaces (policy/procinfo.c), so a path
 * with a space in it is cut there; the name is only a hint for a human. */
static void program_name(const char *command, char *out, size_t len)
{
    size_t end = strcspn(command, " ");
    const char *start = command;
    for (size_t i = 0; i < end; i++)
        if (command[i] == '/')
            start = command + i + 1;
    size_t n = (size_t)(command + end - start);
    if (n >= len)
        n = len - 1;
    memcpy(out, start, n);
    out[n] = '\0';
}

static void process_labels(struct metrics_out *o, const struct grey_view_process *p)
{
    metrics_put(o, "{pid=\"%" PRId32 "\",grey_run_id=\"", p->pid);
    if (p->run_id)
        metrics_put(o, "%" PRIx64, p->run_id);
    metrics_put(o, "\"");
    if (o->opt->process_names) {
        char name[GREY_COMMAND_MAX + 1];
        program_name(p->command, name, sizeof name);
        metrics_put(o, ",program=\"");
        metrics_label_value(o, name);
        metrics_put(o, "\"");
    }
}

/* One sample per (process, device it used) of the device counter at offset field. */
static void per_device(struct metrics_out *o, const struct grey_view *v, const char *name, size_t field,
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
            metrics_put(o, "%s", name);
            process_labels(o, p);
            metrics_put(o, ",");
            metrics_gpu_labels(o, v, d);
            metrics_put(o, "} %" PRIu64 "\n", value);
        }
    }
}

enum fair_quantity { WEIGHT, ENTITLED, MEASURED, THROTTLED, QUEUED };

static void per_device_fair(struct metrics_out *o, const struct grey_view *v, const char *name, enum fair_quantity q)
{
    for (unsigned i = 0; i < v->nprocs; i++) {
        const struct grey_view_process *p = &v->proc[i];
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            if (!(p->devices & GREY_DEVBIT(d)))
                continue;
            const struct grey_view_fair *f = &p->fair[d];
            double ent, meas, value = 0;
            grey_fair_shares(v, i, d, &ent, &meas);
            switch (q) {
            case WEIGHT: value = f->weight; break;
            case ENTITLED: value = ent; break;
            case MEASURED: value = meas; break;
            case THROTTLED: value = METRICS_SECONDS(f->throttled_ns); break;
            case QUEUED: value = METRICS_SECONDS(f->queued_ns); break;
            }
            metrics_put(o, "%s", name);
            process_labels(o, p);
            metrics_put(o, ",");
            metrics_gpu_labels(o, v, d);
            metrics_put(o, "} %.9g\n", value);
        }
    }
}

#define FIELD(f) offsetof(struct grey_view_device, f)

void metrics_write_processes(struct metrics_out *o, const struct grey_view *v)
{
    metrics_family(o, "grey_process_vram_used_bytes", "gauge", "VRAM the process holds on the device now.");
    per_device(o, v, "grey_process_vram_used_bytes", FIELD(used), false);
    metrics_family(o, "grey_process_vram_peak_bytes", "gauge", "Most VRAM the process held on the device at once.");
    per_device(o, v, "grey_process_vram_peak_bytes", FIELD(peak), false);
    metrics_family(o, "grey_process_vram_cap_bytes", "gauge", "The process's VRAM cap on the device (absent: no cap).");
    per_device(o, v, "grey_process_vram_cap_bytes", FIELD(cap), true);
    metrics_family(o, "grey_process_allocations_total", "counter", "Device allocations the process made.");
    per_device(o, v, "grey_process_allocations_total", FIELD(allocs), false);
    metrics_family(o, "grey_process_allocations_denied_total", "counter",
                   "Device allocations grey refused because of a cap or a budget.");
    per_device(o, v, "grey_process_allocations_denied_total", FIELD(denied), false);

    metrics_family(o, "grey_process_weight", "gauge", "The process's fair-share weight on the device.");
    per_device_fair(o, v, "grey_process_weight", WEIGHT);
    metrics_family(o, "grey_process_entitled_share", "gauge",
                   "Share of the device the process is entitled to now (0..1; 0 when not active there).");
    per_device_fair(o, v, "grey_process_entitled_share", ENTITLED);
    metrics_family(o, "grey_process_measured_share", "gauge",
                   "Share of the device's recent time (last ~300 ms) the process's kernels took (0..1).");
    per_device_fair(o, v, "grey_process_measured_share", MEASURED);
    metrics_family(o, "grey_process_throttled_seconds_total", "counter",
                   "Time the process's launches waited at the fair-share gate.");
    per_device_fair(o, v, "grey_process_throttled_seconds_total", THROTTLED);
    metrics_family(o, "grey_process_queued_device_seconds", "gauge",
                   "Device time the process has queued and not yet run, estimated.");
    per_device_fair(o, v, "grey_process_queued_device_seconds", QUEUED);

    metrics_family(o, "grey_process_kernel_launches_total", "counter", "Kernel launches the process made.");
    for (unsigned i = 0; i < v->nprocs; i++) {
        metrics_put(o, "grey_process_kernel_launches_total");
        process_labels(o, &v->proc[i]);
        metrics_put(o, "} %" PRIu64 "\n", v->proc[i].launches);
    }
}
