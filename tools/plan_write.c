/* Writing plan files, with a comment on every value saying what it means and, for sizes, the
 * human-readable size; grey-plan's only (the hook reads plans, it never writes them). */
#include "plan_write.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy/size.h"
#include "policy/thermal.h"

/* Writes s as a quoted string the parser reads back. Line breaks (which the format cannot hold)
 * become spaces. */
static void quote(char *buf, size_t len, const char *s)
{
    size_t o = 0;
    buf[o++] = '"';
    for (; *s && o + 3 < len; s++) {
        char c = *s;
        if (c == '"' || c == '\\')
            buf[o++] = '\\';
        buf[o++] = (c == '\n' || c == '\r') ? ' ' : c;
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

/* Where the writer is: the stream, the notes to write .why lines from, and the current section
 * (as struct grey_plan_why numbers it). */
struct writer {
    FILE *out;
    const struct grey_plan_notes *notes;
    int section;
};

/* "key = value" padded so that comments line up, then "# comment"; then the key's .why line when
 * the notes have one, so the reason sits right under the value it explains. */
static int put_line(struct writer *w, const char *key, const char *value, const char *comment)
{
    char kv[GREY_NAME_MAX * 2 + 64];
    snprintf(kv, sizeof kv, "%s = %s", key, value);
    if (fprintf(w->out, "%-30s # %s\n", kv, comment) < 0)
        return -1;
    const struct grey_plan_why *why = grey_plan_why_find(w->notes, w->section, key);
    if (!why)
        return 0;
    char conf[16], q[GREY_PLAN_REASON_MAX * 2 + 4];
    quote(q, sizeof q, why->reason);
    return fprintf(w->out, "%s" GREY_PLAN_WHY_SUFFIX " = %s %s\n", key,
                   grey_plan_confidence_format(why->confidence, conf, sizeof conf), q) < 0 ? -1 : 0;
}

static int put_size(struct writer *w, const char *key, uint64_t bytes, const char *meaning)
{
    char value[32], human[32], comment[128];
    snprintf(value, sizeof value, "%llu", (unsigned long long)bytes);
    snprintf(comment, sizeof comment, "%s: %s", grey_size_format(bytes, human, sizeof human),
             meaning);
    return put_line(w, key, value, comment);
}

/* A whole-number key, written only when set (0 means not given). */
static int put_uint(struct writer *w, const char *key, unsigned v, const char *comment)
{
    char value[16];
    if (!v)
        return 0;
    snprintf(value, sizeof value, "%u", v);
    return put_line(w, key, value, comment);
}

static int put_device(struct writer *w, int d, const struct grey_plan_device *dev)
{
    char q[GREY_NAME_MAX * 2 + 4];
    w->section = d;
    if (fprintf(w->out, "\n[device %d]\n", d) < 0)
        return -1;
    if (dev->name[0]) {
        quote(q, sizeof q, dev->name);
        if (put_line(w, "name", q, "informational: the device this was planned for") != 0)
            return -1;
    }
    if (dev->uuid[0]) {
        quote(q, sizeof q, dev->uuid);
        if (put_line(w, "uuid", q, "the GPU this section is for, whatever number a job sees it under") != 0)
            return -1;
    }
    if (dev->pci_bus_id[0]) {
        quote(q, sizeof q, dev->pci_bus_id);
        if (put_line(w, "pci_bus_id", q, "informational: where that GPU sits") != 0)
            return -1;
    }
    if (dev->vram &&
        put_size(w, "vram", dev->vram, "physical VRAM the plan was computed for") != 0)
        return -1;
    if (put_size(w, "budget", dev->budget,
                 "all hooked processes on this device together") != 0 ||
        put_size(w, "process_cap", dev->process_cap,
                 "any one hooked process on this device") != 0)
        return -1;
    if (put_uint(w, "throttle_temp", dev->throttle_temp, "degrees C: the hardware slows down here") != 0 ||
        put_uint(w, "cooldown_temp", dev->cooldown_temp, "degrees C: work should back off from here") != 0 ||
        put_uint(w, "shutdown_temp", dev->shutdown_temp, "degrees C: the hardware stops here") != 0 ||
        put_uint(w, "batch_size", dev->batch_size, "hint: a starting batch size for one process") != 0 ||
        (dev->chunk_size &&
         put_size(w, "chunk_size", dev->chunk_size, "hint: a tensor chunk size for one process") != 0) ||
        put_uint(w, "weight", dev->weight, "fair-share weight of a process on this device") != 0)
        return -1;
    return 0;
}

/* A duration in the largest unit that holds it exactly, so that reading it back gives the same
 * nanoseconds ("50ms", "1500us"). */
static int put_duration(struct writer *w, const char *key, uint64_t ns, const char *comment)
{
    static const struct { uint64_t ns; const char *unit; } units[] = {
        {1000000000ull, "s"}, {1000000ull, "ms"}, {1000ull, "us"}, {1, "ns"}};
    char text[32] = "0";
    for (size_t i = 0; ns && i < sizeof units / sizeof units[0]; i++)
        if (ns % units[i].ns == 0) {
            snprintf(text, sizeof text, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].unit);
            break;
        }
    return put_line(w, key, text, comment);
}

/* The keys that say what the plan was made for, when grey-plan knew them. */
static int put_inputs(struct writer *w, const struct grey_plan *plan)
{
    char conf[16];
    if (put_uint(w, "tenants", plan->tenants, "processes expected to share each device") != 0 ||
        (plan->workload != GREY_WORKLOAD_UNSET &&
         put_line(w, "workload", grey_plan_workload_name(plan->workload), "training or inference") != 0) ||
        (plan->model_size &&
         put_size(w, "model_size", plan->model_size, "the model's weights the hints assume") != 0) ||
        put_uint(w, "default_weight", plan->default_weight,
                 "fair-share weight of a process nothing else weighs") != 0 ||
        (plan->has_max_lead &&
         put_duration(w, "max_lead", plan->max_lead_ns,
                      "the most device time a process may queue ahead (0: no bound)") != 0) ||
        (plan->thermal != GREY_THERMAL_UNSET &&
         put_line(w, "thermal", grey_plan_thermal_name(plan->thermal),
                  "on, off or dry-run: back off a GPU's processes above cooldown_temp") != 0) ||
        (plan->has_confidence &&
         put_line(w, "confidence", grey_plan_confidence_format(plan->confidence, conf, sizeof conf),
                  "0..1: how sure grey-plan was of this plan ('grey-plan explain' says why)") != 0))
        return -1;
    return 0;
}

int grey_plan_write(FILE *out, const struct grey_plan *plan)
{
    return grey_plan_write_notes(out, plan, NULL);
}

int grey_plan_write_notes(FILE *out, const struct grey_plan *plan, const struct grey_plan_notes *notes)
{
    struct writer w = {out, notes, GREY_PLAN_WHY_TOP};
    char when[64] = "an unknown time";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    char q[GREY_NAME_MAX * 2 + 4], version[16];
    quote(q, sizeof q, plan->source);
    snprintf(version, sizeof version, "%d", GREY_PLAN_VERSION);

    if (fprintf(out,
                "# grey plan: VRAM limits that libgreyhook.so enforces on each GPU.\n"
                "# Written by grey-plan on %s from %s.\n"
                "# [device N] is the GPU nvidia-smi numbers N (PCI order) and applies to the GPU\n"
                "# its uuid names, whatever number a job sees it under (CUDA_VISIBLE_DEVICES).\n"
                "# Admins may edit it by hand; 'grey-plan check FILE' verifies it.\n"
                "# Sizes are bytes (512MiB, 2GiB, 1.5G are accepted too). A KEY.why line gives the\n"
                "# confidence (0..1) and the reason for KEY: edit or delete it when you change KEY.\n\n",
                when, plan->source[0] ? q : "no stated source") < 0)
        return -1;
    if (put_line(&w, GREY_PLAN_VERSION_KEY, version, "format version; other versions are refused") != 0 ||
        put_line(&w, "mode", grey_plan_mode_name(plan->mode),
                 "how the caps were chosen: safe, balanced or aggressive") != 0 ||
        (plan->source[0] &&
         put_line(&w, "source", q, "what the plan was computed from") != 0) ||
        put_inputs(&w, plan) != 0)
        return -1;
    if (plan->ledger[0]) {
        quote(q, sizeof q, plan->ledger);
        if (put_line(&w, "ledger", q, "the ledger: processes sharing it share the budgets") != 0)
            return -1;
    }
    if (plan->ledger_group[0]) {
        quote(q, sizeof q, plan->ledger_group);
        if (put_line(&w, "ledger_group", q, "the ledger is created 0660 for this group") != 0)
            return -1;
    }
    if (plan->node_service[0]) {
        quote(q, sizeof q, plan->node_service);
        if (put_line(&w, "node_service", q, "grey-noded's socket: the sealed node ledger comes from it") != 0)
            return -1;
    }
    if (plan->watchdog != GREY_WATCHDOG_LOG &&
        put_line(&w, "watchdog", grey_watchdog_policy_name(plan->watchdog),
                 "what grey-noded does to a process over its cap: log, signal or kill") != 0)
        return -1;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (plan->dev[d].present && put_device(&w, d, &plan->dev[d]) != 0)
            return -1;
    for (unsigned i = 0; i < plan->nprincipals && i < GREY_PLAN_PRINCIPALS; i++) {
        const struct grey_plan_principal *pr = &plan->principal[i];
        w.section = GREY_PLAN_WHY_PRINCIPAL + (int)i;
        if (fprintf(out, "\n[%s %s]\n", grey_plan_principal_kind(pr), pr->name) < 0 ||
            (pr->process_cap != UINT64_MAX &&
             put_size(&w, "process_cap", pr->process_cap,
                      pr->is_group ? "any one process of a member, on every device"
                                   : "any one process of this user, on every device") != 0) ||
            put_uint(&w, "weight", pr->weight,
                     pr->is_group ? "fair-share weight of a member's processes" : "fair-share weight of this user's "
                                                                                  "processes") != 0)
            return -1;
    }
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
