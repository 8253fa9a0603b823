/* grey-plan explain (see plan_explain.h). */
#include "plan_explain.h"

#include <string.h>

#include "policy/size.h"

static void row(FILE *out, const char *indent, const struct grey_plan_notes *notes, int section, const char *key,
                const char *value)
{
    const struct grey_plan_why *w = grey_plan_why_find(notes, section, key);
    char conf[16] = "-";
    if (w)
        grey_plan_confidence_format(w->confidence, conf, sizeof conf);
    fprintf(out, "%s%-*s %-14s %-6s %s\n", indent, 16 - (int)strlen(indent), key, value, conf,
            w ? w->reason : "(no reason recorded: set by hand?)");
}

static void row_size(FILE *out, const char *indent, const struct grey_plan_notes *n, int section, const char *key,
                     uint64_t v)
{
    char buf[32];
    if (v)
        row(out, indent, n, section, key, grey_size_format(v, buf, sizeof buf));
}

static void row_uint(FILE *out, const char *indent, const struct grey_plan_notes *n, int section, const char *key,
                     unsigned v, const char *unit)
{
    char buf[32];
    if (!v)
        return;
    snprintf(buf, sizeof buf, "%u%s", v, unit);
    row(out, indent, n, section, key, buf);
}

void plan_explain(FILE *out, const char *file, const struct grey_plan *p, const struct grey_plan_notes *n)
{
    char buf[32];
    fprintf(out, "%s: grey plan version %u%s%s\n", file, p->version, p->source[0] ? ", from " : "", p->source);
    fprintf(out, "%-16s %-14s %-6s %s\n", "key", "value", "conf.", "reason");
    row(out, "", n, GREY_PLAN_WHY_TOP, "mode", grey_plan_mode_name(p->mode));
    row_uint(out, "", n, GREY_PLAN_WHY_TOP, "tenants", p->tenants, "");
    if (p->workload != GREY_WORKLOAD_UNSET)
        row(out, "", n, GREY_PLAN_WHY_TOP, "workload", grey_plan_workload_name(p->workload));
    row_size(out, "", n, GREY_PLAN_WHY_TOP, "model_size", p->model_size);
    row_uint(out, "", n, GREY_PLAN_WHY_TOP, "default_weight", p->default_weight, "");
    if (p->has_confidence)
        row(out, "", n, GREY_PLAN_WHY_TOP, "confidence", grey_plan_confidence_format(p->confidence, buf, sizeof buf));
    if (p->ledger[0])
        row(out, "", n, GREY_PLAN_WHY_TOP, "ledger", p->ledger);
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        const struct grey_plan_device *dev = &p->dev[d];
        if (!dev->present)
            continue;
        fprintf(out, "[device %d]%s%s%s\n", d, dev->name[0] ? " \"" : "", dev->name, dev->name[0] ? "\"" : "");
        if (dev->uuid[0])
            row(out, "  ", n, d, "uuid", dev->uuid);
        if (dev->pci_bus_id[0])
            row(out, "  ", n, d, "pci_bus_id", dev->pci_bus_id);
        row_size(out, "  ", n, d, "vram", dev->vram);
        row_size(out, "  ", n, d, "budget", dev->budget);
        row_size(out, "  ", n, d, "process_cap", dev->process_cap);
        row_uint(out, "  ", n, d, "throttle_temp", dev->throttle_temp, " C");
        row_uint(out, "  ", n, d, "cooldown_temp", dev->cooldown_temp, " C");
        row_uint(out, "  ", n, d, "shutdown_temp", dev->shutdown_temp, " C");
        row_uint(out, "  ", n, d, "batch_size", dev->batch_size, "");
        row_size(out, "  ", n, d, "chunk_size", dev->chunk_size);
        row_uint(out, "  ", n, d, "weight", dev->weight, "");
    }
    for (unsigned i = 0; i < p->nprincipals && i < GREY_PLAN_PRINCIPALS; i++) {
        const struct grey_plan_principal *pr = &p->principal[i];
        fprintf(out, "[%s %s]\n", pr->is_group ? "group" : "user", pr->name);
        if (pr->process_cap != UINT64_MAX)
            row_size(out, "  ", n, GREY_PLAN_WHY_PRINCIPAL + (int)i, "process_cap", pr->process_cap);
        row_uint(out, "  ", n, GREY_PLAN_WHY_PRINCIPAL + (int)i, "weight", pr->weight, "");
    }
}
