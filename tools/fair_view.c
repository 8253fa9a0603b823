/* Fair share for the tools (see fair_view.h). */
#include "fair_view.h"

#include "policy/pacer.h"
#include "policy/weights.h"

#define HALF_LIFE_NS 100000000ull /* as the pacer's recent device time (grey_pacer_defaults) */

static bool shows(const struct grey_view_fair *f) { return f->active || f->busy_ns || f->throttled_ns; }

void grey_fair_print_text(FILE *f, const struct grey_view *v)
{
    bool header = false;
    for (unsigned i = 0; i < v->nprocs; i++) {
        const struct grey_view_process *p = &v->proc[i];
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            const struct grey_view_fair *x = &p->fair[d];
            if (!shows(x))
                continue;
            if (!header) {
                fprintf(f, "\nfair share (measured device time over the last ~%llu ms against the weights)\n",
                        (unsigned long long)(HALF_LIFE_NS * 3 / 1000000));
                fprintf(f, "%7s %3s %6s %8s %8s %9s %9s %7s %6s %7s\n", "PID", "DEV", "WEIGHT", "ENTITLED",
                        "MEASURED", "THROTTLED", "DEV TIME", "QUEUED", "LEAD", "CEILING");
                header = true;
            }
            double ent, meas;
            grey_fair_shares(v, i, d, &ent, &meas);
            char ceiling[16] = "-", e[16] = "-";
            if (x->max_share)
                grey_share_format(x->max_share, ceiling, sizeof ceiling);
            if (x->active)
                snprintf(e, sizeof e, "%.1f%%", ent * 100);
            /* QUEUED: device work it has in flight now; LEAD: the most it may have (max_lead). */
            char lead[16] = "-";
            if (p->max_lead_ns)
                snprintf(lead, sizeof lead, "%.0fms", (double)p->max_lead_ns / 1e6);
            fprintf(f, "%7d %3d %6u %8s %7.1f%% %8.2fs %8.2fs %5.1fms %6s %7s%s\n", (int)p->pid, d, x->weight, e,
                    meas * 100, (double)x->throttled_ns / 1e9, (double)x->busy_ns / 1e9, (double)x->queued_ns / 1e6,
                    lead, ceiling, x->waiting ? " waiting" : "");
        }
    }
}

static void json_u64(cJSON *obj, const char *key, uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(buf));
}

void grey_fair_json(cJSON *device_entry, const struct grey_view *v, unsigned i, int dev)
{
    const struct grey_view_fair *x = &v->proc[i].fair[dev];
    double ent, meas;
    grey_fair_shares(v, i, dev, &ent, &meas);
    cJSON *o = cJSON_AddObjectToObject(device_entry, "fair_share");
    cJSON_AddNumberToObject(o, "weight", x->weight);
    if (x->max_share)
        cJSON_AddNumberToObject(o, "max_share", x->max_share / (double)GREY_SHARE_ONE);
    else
        cJSON_AddNullToObject(o, "max_share");
    cJSON_AddNumberToObject(o, "entitled_share", ent);
    cJSON_AddNumberToObject(o, "measured_share", meas);
    json_u64(o, "device_time_ns", x->busy_ns);
    json_u64(o, "recent_device_time_ns", x->recent_ns);
    json_u64(o, "throttled_ns", x->throttled_ns);
    json_u64(o, "queued_ns", x->queued_ns);
    if (v->proc[i].max_lead_ns)
        json_u64(o, "max_lead_ns", v->proc[i].max_lead_ns);
    else
        cJSON_AddNullToObject(o, "max_lead_ns");
    cJSON_AddBoolToObject(o, "active", x->active);
    cJSON_AddBoolToObject(o, "waiting", x->waiting);
}
