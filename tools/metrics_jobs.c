/* Per-job series: a job is the processes one grey-run started (its grey_run_id; processes not
 * started by grey-run share grey_run_id=""), summed per GPU. A job keeps its series while any of
 * its processes lives, so the series count follows jobs, not pids: six per job and GPU.
 * grey_run_id joins a series to a grey-run report; slurm_job_id (SLURM_JOB_ID in the job's
 * environment, "" outside Slurm) to the batch system's accounting. */
#include <inttypes.h>
#include <stdint.h>

#include "fair_shares.h"
#include "metrics_out.h"

struct job {
    uint64_t run_id;
    uint64_t batch_job_id; /* the first of its processes that ran in a Slurm job */
    uint64_t used;
    uint32_t weight;
    double entitled, measured;
    uint64_t throttled_ns, queued_ns;
};

/* The jobs on row d, summed over their processes; returns how many. */
static unsigned jobs_on(const struct grey_view *v, int d, struct job *jobs)
{
    unsigned n = 0;
    for (unsigned i = 0; i < v->nprocs; i++) {
        const struct grey_view_process *p = &v->proc[i];
        if (!(p->devices & GREY_DEVBIT(d)))
            continue;
        unsigned j = 0;
        while (j < n && jobs[j].run_id != p->run_id)
            j++;
        if (j == n)
            jobs[n++] = (struct job){.run_id = p->run_id};
        struct job *x = &jobs[j];
        if (!x->batch_job_id)
            x->batch_job_id = p->batch_job_id;
        const struct grey_view_fair *f = &p->fair[d];
        double ent, meas;
        grey_fair_shares(v, i, d, &ent, &meas);
        x->used += p->dev[d].used;
        if (f->weight > x->weight)
            x->weight = f->weight; /* a job's processes share grey-run's --weight; the largest if not */
        x->entitled += ent;
        x->measured += meas;
        x->throttled_ns += f->throttled_ns;
        x->queued_ns += f->queued_ns;
    }
    return n;
}

enum quantity { USED, WEIGHT, ENTITLED, MEASURED, THROTTLED, QUEUED, NQUANTITIES };

static const struct {
    const char *name, *help;
} family_of[NQUANTITIES] = {
    [USED] = {"grey_job_vram_used_bytes", "VRAM the job's live processes hold on the device."},
    [WEIGHT] = {"grey_job_weight", "The fair-share weight the job's processes run with on the device."},
    [ENTITLED] = {"grey_job_entitled_share",
                  "Share of the device the job is entitled to now: its weight over the active weights (0..1)."},
    [MEASURED] = {"grey_job_measured_share",
                  "Share of the device's recent time (last ~300 ms) the job's kernels took (0..1)."},
    [THROTTLED] = {"grey_job_throttled_seconds",
                   "Time the launches of the job's live processes waited at the fair-share gate (falls when one "
                   "of them exits)."},
    [QUEUED] = {"grey_job_queued_device_seconds",
                "Device time the job has queued and not yet run, estimated."},
};

static void sample(struct metrics_out *o, const struct grey_view *v, int d, const struct job *j, enum quantity q)
{
    metrics_put(o, "%s{grey_run_id=\"", family_of[q].name);
    if (j->run_id)
        metrics_put(o, "%" PRIx64, j->run_id); /* hex, as grey-run writes GREY_RUN_ID and its report */
    metrics_put(o, "\",slurm_job_id=\"");
    if (j->batch_job_id)
        metrics_put(o, "%" PRIu64, j->batch_job_id);
    metrics_put(o, "\",");
    metrics_gpu_labels(o, v, d);
    switch (q) {
    case USED: metrics_put(o, "} %" PRIu64 "\n", j->used); break;
    case WEIGHT: metrics_put(o, "} %" PRIu32 "\n", j->weight); break;
    case ENTITLED: metrics_put(o, "} %.6g\n", j->entitled); break;
    case MEASURED: metrics_put(o, "} %.6g\n", j->measured); break;
    case THROTTLED: metrics_put(o, "} %.9g\n", METRICS_SECONDS(j->throttled_ns)); break;
    case QUEUED: metrics_put(o, "} %.9g\n", METRICS_SECONDS(j->queued_ns)); break;
    default: break;
    }
}

/* The jobs are summed again for every family (a family's samples must be contiguous): cheap
 * next to a scrape, and no table to keep, so concurrent writers share nothing. */
void metrics_write_jobs(struct metrics_out *o, const struct grey_view *v)
{
    struct job jobs[GREY_LEDGER_SLOTS];
    for (int q = 0; q < NQUANTITIES; q++) {
        metrics_family(o, family_of[q].name, "gauge", family_of[q].help);
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            if (!(v->devices & GREY_DEVBIT(d)))
                continue;
            unsigned n = jobs_on(v, d, jobs);
            for (unsigned j = 0; j < n; j++)
                sample(o, v, d, &jobs[j], (enum quantity)q);
        }
    }
}
