/* The planner (see planner.h for the rules). Confidences are permille; every value's reason is
 * written where the value is decided, so the reason is always the rule that produced it. */
#include "planner.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy/ledger_gpu.h"
#include "policy/size.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* The default budget leaves 10% of each device to what grey does not count: CUDA contexts,
 * cuBLAS workspaces and processes that run without the hook. */
#define BUDGET_PERCENT 90
static const unsigned mode_cap_percent[] = {[GREY_MODE_SAFE] = 75, [GREY_MODE_BALANCED] = 85,
                                            [GREY_MODE_AGGRESSIVE] = 90};
/* How far the cap of a mode is from surely right: aggressive caps leave the least room for what
 * grey cannot see (fragmentation, a context grown by a library), so they are the least sure. */
static const unsigned mode_cap_confidence[] = {[GREY_MODE_SAFE] = 950, [GREY_MODE_BALANCED] = 850,
                                               [GREY_MODE_AGGRESSIVE] = 750};
/* With tenants: a tenant's share of the budget is budget / N times this (percent). Safe promises
 * every tenant its cap at once; the others bet that tenants do not all peak together, which the
 * budget makes a safe bet: together they are still stopped at the budget. */
static const unsigned mode_overcommit_percent[] = {[GREY_MODE_SAFE] = 100, [GREY_MODE_BALANCED] = 125,
                                                   [GREY_MODE_AGGRESSIVE] = 150};
/* Chunk = activation memory / this. */
static const unsigned mode_chunk_divisor[] = {[GREY_MODE_SAFE] = 8, [GREY_MODE_BALANCED] = 6,
                                              [GREY_MODE_AGGRESSIVE] = 4};
#define CAP_FLOOR GiB          /* below this a tenant can hardly hold a CUDA context and a model */
#define CHUNK_MIN (512 * MiB)
#define COOLDOWN_MARGIN 3      /* degrees C below the slowdown point (the earlier project's rule) */
#define REFERENCE_SMS 108      /* an A100: the batch table's reference GPU */
/* What an SM of the reference draws at full clocks: an A100 SXM's 400 W over its 108 SMs. A board
 * whose power limit is below its SMs' count times this cannot keep them at full clocks: its
 * kernels run longer, so a batch sized for its SMs would take longer a step than the table means. */
#define REFERENCE_W_PER_SM 3.7
#define REFERENCE_W 400        /* the same A100, for a board whose SM count nobody reported */
#define POWER_CHUNK_HALF 0.75  /* held below this fraction of that power: half the chunk too */

/* Vendor defaults when the hardware reports no thresholds: (throttle, cooldown) in degrees C,
 * from the earlier project's table. */
static void vendor_temps(enum gpu_vendor v, unsigned *throttle, unsigned *cooldown)
{
    switch (v) {
    case GPU_VENDOR_NVIDIA: *throttle = 83, *cooldown = 70; return;
    case GPU_VENDOR_AMD: *throttle = 85, *cooldown = 72; return;
    default: *throttle = 80, *cooldown = 65; return; /* Intel's, the most careful of the three */
    }
}

static uint64_t mib_floor(uint64_t v) { return v & ~(MiB - 1); }
static uint64_t percent_of(uint64_t bytes, unsigned pct)
{
    return mib_floor((uint64_t)((unsigned __int128)bytes * pct / 100));
}
static unsigned times(unsigned conf, unsigned permille) { return conf * permille / 1000; }
static const char *sz(uint64_t v, char *buf) { return grey_size_format(v, buf, 32); }

static void warn(struct planner_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct planner_result *out, const char *fmt, ...)
{
    if (out->nwarnings >= PLANNER_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->warnings[out->nwarnings++], sizeof out->warnings[0], fmt, ap);
    va_end(ap);
}

static void why(struct planner_result *out, int section, const char *key, unsigned conf, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void why(struct planner_result *out, int section, const char *key, unsigned conf, const char *fmt, ...)
{
    char reason[GREY_PLAN_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    grey_plan_why_set(&out->notes, section, key, conf, reason);
}

/* The model's footprint in one process: weights x 1.2 for inference (runtime buffers, KV cache
 * start), x 4 for training (weights, gradients and Adam's two moments). Unknown workload:
 * training, the larger. 0 when the model size is unknown. */
static uint64_t footprint(const struct plan_settings *s)
{
    if (!s->model_size)
        return 0;
    return s->workload == GREY_WORKLOAD_INFERENCE ? s->model_size / 10 * 12 : s->model_size * 4;
}

/* ---------------------------------------------------------------- memory */

struct devplan {
    const struct gpu_facts *g;
    int d;                 /* the plan's device number */
    uint64_t mem;          /* what one device offers a process: VRAM or the largest MIG instance */
    const char *mem_what;
    unsigned vconf;        /* confidence in mem */
    char src[96];          /* who reported the VRAM */
};

static void plan_budget(const struct plan_layers *L, struct devplan *dp, struct planner_result *out)
{
    const struct plan_settings *s = &L->s;
    struct grey_plan_device *pd = &out->plan.dev[dp->d];
    char a[32], b[32];
    uint64_t budget;
    unsigned conf;
    char reason[GREY_PLAN_REASON_MAX];
    if (s->budget_from || L->user_budget[dp->d] != UINT64_MAX) {
        const char *from = s->budget_from ? s->budget_from : L->user_path;
        budget = s->budget_from ? s->budget : L->user_budget[dp->d];
        conf = 1000;
        snprintf(reason, sizeof reason, "set by %.100s: %s", from, sz(budget, a));
        if (budget > dp->mem) {
            warn(out, "device %d \"%s\": %s %s is more than its %s %s; using %s", dp->d, pd->name, from,
                 sz(budget, a), dp->mem_what, sz(dp->mem, b), b);
            budget = dp->mem;
            conf = dp->vconf;
            snprintf(reason, sizeof reason, "%.100s %s, lowered to the device's %s %s", from, a, dp->mem_what, b);
        }
    } else {
        budget = percent_of(dp->mem, BUDGET_PERCENT);
        conf = times(dp->vconf, 950);
        snprintf(reason, sizeof reason,
                 "%d%% of the %s %s reports (%s): 10%% stays free for CUDA contexts, library workspaces and "
                 "processes without the hook", BUDGET_PERCENT, dp->mem_what, dp->src, sz(dp->mem, a));
    }
    if (budget > L->budget_limit[dp->d]) {
        budget = L->budget_limit[dp->d];
        size_t n = strlen(reason);
        snprintf(reason + n, sizeof reason - n, "; lowered to the admin plan's budget %s", sz(budget, a));
    }
    pd->budget = budget;
    why(out, dp->d, "budget", conf, "%s", reason);
}

/* The explicit cap (GREY_CAP / --cap), within the admin ceiling, the device and the budget. */
static void explicit_cap(const struct plan_layers *L, struct devplan *dp, struct planner_result *out)
{
    const struct plan_settings *s = &L->s;
    struct grey_plan_device *pd = &out->plan.dev[dp->d];
    char a[32], b[32];
    uint64_t cap = s->cap;
    unsigned conf = 1000;
    char reason[GREY_PLAN_REASON_MAX];
    snprintf(reason, sizeof reason, "set by %.100s: %s", s->cap_from, sz(cap, a));
    if (L->raised & (GREY_DEVBIT(dp->d))) {
        cap = L->cap_limit[dp->d];
        warn(out, "%s %s is above the admin plan's cap %s on device %d; the admin cap applies", s->cap_from,
             sz(s->cap, a), sz(cap, b), dp->d);
        snprintf(reason, sizeof reason, "%.100s %s, lowered to the admin plan's cap %s (a user may lower it, not raise it)",
                 s->cap_from, a, b);
    }
    if (cap > dp->mem) {
        warn(out, "device %d \"%s\": %s %s is more than its %s %s; using %s", dp->d, pd->name, s->cap_from,
             sz(cap, a), dp->mem_what, sz(dp->mem, b), b);
        cap = dp->mem;
        conf = dp->vconf;
        snprintf(reason, sizeof reason, "%.100s %s, lowered to the device's %s %s", s->cap_from, a, dp->mem_what, b);
    }
    if (cap > pd->budget) {
        warn(out, "device %d \"%s\": %s %s is more than the budget %s; using %s", dp->d, pd->name, s->cap_from,
             sz(cap, a), sz(pd->budget, b), b);
        cap = pd->budget;
        snprintf(reason, sizeof reason, "%.100s %s, lowered to the budget %s", s->cap_from, a, b);
    }
    pd->process_cap = cap;
    why(out, dp->d, "process_cap", conf, "%s", reason);
}

static void planned_cap(const struct plan_layers *L, struct devplan *dp, struct planner_result *out)
{
    const struct plan_settings *s = &L->s;
    struct grey_plan_device *pd = &out->plan.dev[dp->d];
    char a[32], b[32], c[32], e[32];
    unsigned pct = mode_cap_percent[s->mode];
    uint64_t cap = percent_of(dp->mem, pct);
    unsigned conf = times(dp->vconf, mode_cap_confidence[s->mode]);
    char reason[GREY_PLAN_REASON_MAX];
    snprintf(reason, sizeof reason, "%s: %u%% of the %s %s reports (%s)", grey_plan_mode_name(s->mode), pct,
             dp->mem_what, dp->src, sz(dp->mem, a));
    unsigned n = s->tenants ? s->tenants : 1;
    if (n > 1) {
        unsigned over = mode_overcommit_percent[s->mode];
        uint64_t share = mib_floor((uint64_t)((unsigned __int128)pd->budget * over / 100 / n));
        /* The model's footprint and a quarter more for activations: a cap below that cannot run it. */
        uint64_t need = footprint(s) / 4 * 5;
        uint64_t floor = need > CAP_FLOOR ? mib_floor(need + MiB - 1) : CAP_FLOOR;
        conf = times(conf, 900); /* how tenants really overlap is a guess */
        if (share < cap) {
            if (share >= floor) {
                cap = share;
                if (over == 100)
                    snprintf(reason, sizeof reason,
                             "%u tenants share the %s budget: %s / %u = %s each, so all can hold their cap at "
                             "once (%s mode would give %u%% = %s)", n, sz(pd->budget, a), a, n, sz(cap, b),
                             grey_plan_mode_name(s->mode), pct, sz(percent_of(dp->mem, pct), c));
                else
                    snprintf(reason, sizeof reason,
                             "%u tenants share the %s budget: %u.%02u x %s / %u = %s each (%s: they seldom peak "
                             "together; the budget still stops them jointly)", n, sz(pd->budget, a), over / 100,
                             over % 100, a, n, sz(cap, b), grey_plan_mode_name(s->mode));
            } else {
                cap = floor < cap ? floor : cap;
                snprintf(reason, sizeof reason,
                         "%u tenants would get %s each of the %s budget, below the floor of %s (%s): cap %s; the "
                         "budget still stops them jointly", n, sz(share, a), sz(pd->budget, b),
                         sz(floor, c), need > CAP_FLOOR ? "the model's footprint + 25%" : "1 GiB",
                         grey_size_format(cap, e, sizeof e));
                conf = times(conf, 700);
            }
        }
    }
    if (cap > L->cap_limit[dp->d]) {
        cap = L->cap_limit[dp->d];
        bool admin = cap == L->admin_cap[dp->d];
        size_t len = strlen(reason);
        snprintf(reason + len, sizeof reason - len, "; lowered to %s cap %s",
                 admin ? "the admin plan's" : "your plan's", sz(cap, a));
    }
    if (cap > pd->budget) {
        cap = pd->budget;
        size_t len = strlen(reason);
        snprintf(reason + len, sizeof reason - len, "; at most the budget %s", sz(cap, a));
    }
    pd->process_cap = cap;
    why(out, dp->d, "process_cap", conf, "%s", reason);
}

/* ---------------------------------------------------------------- temperatures */

static void plan_temps(const struct devplan *dp, struct planner_result *out)
{
    const struct gpu_facts *g = dp->g;
    struct grey_plan_device *pd = &out->plan.dev[dp->d];
    char src[96];
    if (gpu_known(g, GF_TEMP_SLOWDOWN) && g->temp_slowdown > COOLDOWN_MARGIN + 20 && g->temp_slowdown <= 150) {
        unsigned conf = g->conf[GF_TEMP_SLOWDOWN];
        gpu_field_sources(g, GF_TEMP_SLOWDOWN, src, sizeof src);
        pd->throttle_temp = g->temp_slowdown;
        why(out, dp->d, "throttle_temp", conf, "the slowdown temperature %s reports", src);
        pd->cooldown_temp = g->temp_slowdown - COOLDOWN_MARGIN;
        why(out, dp->d, "cooldown_temp", times(conf, 950),
            "%d C below the %u C slowdown point %s reports, so work backs off before the hardware throttles",
            COOLDOWN_MARGIN, g->temp_slowdown, src);
        if (gpu_known(g, GF_TEMP_SHUTDOWN) && g->temp_shutdown > g->temp_slowdown && g->temp_shutdown <= 150) {
            pd->shutdown_temp = g->temp_shutdown;
            why(out, dp->d, "shutdown_temp", g->conf[GF_TEMP_SHUTDOWN], "the shutdown temperature %s reports",
                gpu_field_sources(g, GF_TEMP_SHUTDOWN, src, sizeof src));
        }
        return;
    }
    vendor_temps(g->vendor, &pd->throttle_temp, &pd->cooldown_temp);
    why(out, dp->d, "throttle_temp", 300,
        "no source reported a slowdown temperature: the default for %s GPUs, a guess", gpu_vendor_name(g->vendor));
    why(out, dp->d, "cooldown_temp", 300,
        "no source reported a slowdown temperature: the careful default for %s GPUs, a guess",
        gpu_vendor_name(g->vendor));
}

/* ---------------------------------------------------------------- hints */

static unsigned round_pow2(double v)
{
    unsigned p = 1;
    while (p < 4096 && (double)p * 1.5 < v)
        p *= 2;
    return p;
}

/* The largest power of two at most v (at least 1). */
static unsigned floor_pow2(double v)
{
    unsigned p = 1;
    while (p < 4096 && (double)p * 2 <= v)
        p *= 2;
    return p;
}

/* Memory left for activations in one process; *what describes it for reasons. */
static uint64_t activation_memory(const struct plan_settings *s, uint64_t cap, char *what, size_t len)
{
    char a[32], b[32];
    uint64_t fp = footprint(s);
    if (!s->model_size) {
        snprintf(what, len, "half the %s cap, the model size being unknown", sz(cap, a));
        return cap / 2;
    }
    const char *kind = s->workload == GREY_WORKLOAD_INFERENCE ? "inference: weights x 1.2"
                       : s->workload == GREY_WORKLOAD_TRAINING ? "training: weights x 4"
                                                               : "training assumed: weights x 4";
    snprintf(what, len, "the %s cap less the model's %s (%s)", sz(cap, a), sz(fp, b), kind);
    return cap > fp ? cap - fp : 0;
}

/* The batch's scale for the board's power limit (--power-limit, else the detected one): the limit
 * over what its SMs draw at the reference's watts per SM, at most 1 (more power than the SMs use
 * changes nothing), at least 0.25. Says why in note. */
static double power_factor(const struct plan_settings *s, const struct gpu_facts *g, char *note, size_t len)
{
    unsigned watts = s->power_limit_w;
    const char *from = s->power_limit_from;
    if (!watts && gpu_known(g, GF_POWER_LIMIT) && g->power_limit_mw)
        watts = (g->power_limit_mw + 500) / 1000, from = "detected";
    if (!watts) {
        snprintf(note, len, ", power limit unknown");
        return 1;
    }
    bool sms = gpu_known(g, GF_SM_COUNT) && g->sm_count > 0;
    double need = sms ? REFERENCE_W_PER_SM * g->sm_count : REFERENCE_W;
    double f = watts / need;
    f = f < 0.25 ? 0.25 : f > 1 ? 1 : f;
    /* Short: the batch reason already holds the VRAM and SM steps. */
    char what[40];
    if (sms)
        snprintf(what, sizeof what, "%.0f W for %u SMs", need, g->sm_count);
    else
        snprintf(what, sizeof what, "an A100's %d W", REFERENCE_W);
    if (f < 1)
        snprintf(note, len, ", x%.2f: %u W (%s) < %s", f, watts, from, what);
    else
        snprintf(note, len, ", %u W (%s) covers %s", watts, from, what);
    return f;
}

static void plan_hints(const struct plan_layers *L, const struct devplan *dp, struct planner_result *out)
{
    const struct plan_settings *s = &L->s;
    const struct gpu_facts *g = dp->g;
    struct grey_plan_device *pd = &out->plan.dev[dp->d];
    char what[160], a[32], b[32];
    uint64_t act = activation_memory(s, pd->process_cap, what, sizeof what);
    unsigned base_conf = 350 + (s->model_size ? 150 : 0) + (s->workload_from ? 50 : 0);
    if (act == 0) {
        warn(out, "device %d \"%s\": %s leaves nothing for activations: the model does not fit one process",
             dp->d, pd->name, what);
        pd->batch_size = 1;
        why(out, dp->d, "batch_size", 150, "%s leaves nothing for activations: 1, and expect out-of-memory", what);
        pd->chunk_size = pd->process_cap < CHUNK_MIN ? pd->process_cap : CHUNK_MIN;
        why(out, dp->d, "chunk_size", 100, "the model does not fit: the smallest useful chunk, %s",
            sz(pd->chunk_size, a));
        return;
    }
    unsigned base = act <= 4 * GiB ? 8 : act <= 8 * GiB ? 16 : act <= 16 * GiB ? 32 : act <= 24 * GiB ? 64 : 128;
    double batch = base;
    char steps[200] = "";
    size_t o = 0;
    if (s->workload == GREY_WORKLOAD_INFERENCE) {
        batch *= 2; /* no activations kept for a backward pass, no gradients */
        o += (size_t)snprintf(steps + o, sizeof steps - o, ", x2 inference");
    }
    if (s->mode == GREY_MODE_AGGRESSIVE) {
        batch *= 2;
        o += (size_t)snprintf(steps + o, sizeof steps - o, ", x2 aggressive");
    }
    unsigned conf = base_conf;
    if (gpu_known(g, GF_SM_COUNT) && g->sm_count > 0) {
        double f = (double)g->sm_count / REFERENCE_SMS;
        f = f < 0.5 ? 0.5 : f > 2 ? 2 : f;
        batch *= f;
        o += (size_t)snprintf(steps + o, sizeof steps - o, ", x%.2f for %u SMs against an A100's %d", f,
                              g->sm_count, REFERENCE_SMS);
        conf += 100;
    } else if (o < sizeof steps) {
        o += (size_t)snprintf(steps + o, sizeof steps - o, ", SM count unknown");
    }
    double pf = power_factor(s, g, steps + (o < sizeof steps ? o : sizeof steps - 1),
                             o < sizeof steps ? sizeof steps - o : 1);
    o = strlen(steps); /* power_factor's note is in steps now */
    batch *= pf;
    /* A board held below its SMs' power runs slower per SM: round its batch down, so that the
     * power limit shows in the hint rather than vanishing in the rounding (x0.61 of 156 is 95,
     * which rounds to the same 128 as the unlimited board's). */
    pd->batch_size = pf < 1 ? floor_pow2(batch) : round_pow2(batch);
    if (pf < 1 && o < sizeof steps)
        o += (size_t)snprintf(steps + o, sizeof steps - o, ", rounded down");
    why(out, dp->d, "batch_size", times(dp->vconf, conf), "%s left for activations (%s): %u from the VRAM table%s",
        sz(act, a), what, base, steps);

    unsigned divisor = mode_chunk_divisor[s->mode] * (pf < POWER_CHUNK_HALF ? 2 : 1);
    char power_note[96] = "";
    if (pf < POWER_CHUNK_HALF)
        snprintf(power_note, sizeof power_note, ", x2: the power limit allows %.0f%% of the SMs' full power", pf * 100);
    uint64_t chunk = mib_floor(act / divisor);
    const char *floor_note = "";
    if (chunk < CHUNK_MIN) {
        chunk = CHUNK_MIN;
        floor_note = ", raised to the 512 MiB minimum";
    }
    if (chunk > pd->process_cap)
        chunk = pd->process_cap;
    pd->chunk_size = chunk;
    why(out, dp->d, "chunk_size", times(dp->vconf, base_conf - 50), "%s for activations / %u (%s%s)%s: %s", sz(act, a),
        divisor, grey_plan_mode_name(s->mode), power_note, floor_note, sz(chunk, b));
}

/* ---------------------------------------------------------------- one device, all devices */

static void plan_device(const struct plan_layers *L, const struct gpu_facts *g, struct planner_result *out)
{
    struct devplan dp = {g, g->index, g->vram_total, "VRAM", g->conf[GF_VRAM_TOTAL], ""};
    struct grey_plan_device *pd = &out->plan.dev[dp.d];
    char a[32];
    gpu_field_sources(g, GF_VRAM_TOTAL, dp.src, sizeof dp.src);
    pd->present = true;
    snprintf(pd->name, sizeof pd->name, "%s", gpu_known(g, GF_NAME) ? g->name : "unnamed GPU");
    /* What the hook matches a section by; a UUID no GPU could have (a tool's placeholder) is left
     * out rather than written into a plan the hook would refuse. */
    char src[64];
    if (gpu_known(g, GF_UUID) && grey_uuid_valid(g->uuid) && strlen(g->uuid) < sizeof pd->uuid) {
        snprintf(pd->uuid, sizeof pd->uuid, "%s", g->uuid);
        why(out, dp.d, "uuid", g->conf[GF_UUID], "reported by %s", gpu_field_sources(g, GF_UUID, src, sizeof src));
    }
    if (gpu_known(g, GF_PCI) && grey_pci_normalize(g->pci, pd->pci_bus_id) == 0)
        why(out, dp.d, "pci_bus_id", g->conf[GF_PCI], "reported by %s", gpu_field_sources(g, GF_PCI, src, sizeof src));
    pd->vram = g->vram_total;
    why(out, dp.d, "vram", dp.vconf, "reported by %s%s", dp.src,
        __builtin_popcount(g->src[GF_VRAM_TOTAL]) > 1 ? " (they agree)" : "");
    if (gpu_known(g, GF_MIG) && g->mig) {
        /* A process on a MIG GPU runs in one instance and sees only that instance's memory. */
        if (gpu_known(g, GF_MIG_VRAM) && g->mig_vram < g->vram_total) {
            dp.mem = g->mig_vram;
            dp.mem_what = "largest MIG instance";
            dp.vconf = g->conf[GF_MIG_VRAM];
            gpu_field_sources(g, GF_MIG_VRAM, dp.src, sizeof dp.src);
        } else {
            dp.vconf = times(dp.vconf, 500);
            warn(out, "device %d \"%s\": MIG is enabled but no source reported the instances' memory: planned from "
                 "the whole GPU's %s, which no process can have", dp.d, pd->name, sz(g->vram_total, a));
        }
    }
    plan_budget(L, &dp, out);
    if (L->s.cap_from)
        explicit_cap(L, &dp, out);
    else
        planned_cap(L, &dp, out);
    plan_temps(&dp, out);
    plan_hints(L, &dp, out);
    if (footprint(&L->s) > pd->process_cap)
        warn(out, "device %d \"%s\": the model's footprint %s is more than the cap", dp.d, pd->name,
             sz(footprint(&L->s), a));
    if (dp.d + 1 > (int)out->plan.ndevices)
        out->plan.ndevices = (unsigned)dp.d + 1;
    out->device_confidence[dp.d] = gpu_device_confidence(g);
}

/* The settings the plan was made with, at the top, each with where it came from. */
static void plan_inputs(const struct plan_layers *L, struct planner_result *out)
{
    const struct plan_settings *s = &L->s;
    struct grey_plan *p = &out->plan;
    char a[32];
    p->mode = s->mode;
    p->has_mode = true;
    if (s->mode_from)
        why(out, GREY_PLAN_WHY_TOP, "mode", 1000, "set by %s: %s", s->mode_from, grey_plan_mode_name(s->mode));
    else
        why(out, GREY_PLAN_WHY_TOP, "mode", 1000, "the default: safe leaves the most room for what grey cannot see");
    p->tenants = s->tenants ? s->tenants : 1;
    if (s->tenants_from)
        why(out, GREY_PLAN_WHY_TOP, "tenants", 1000, "set by %s: %u", s->tenants_from, s->tenants);
    else
        why(out, GREY_PLAN_WHY_TOP, "tenants", 500,
            "not given (--tenants): one process per device assumed, so each may use the whole mode cap");
    if (s->workload_from) {
        p->workload = s->workload;
        why(out, GREY_PLAN_WHY_TOP, "workload", 1000, "set by %s: %s", s->workload_from,
            grey_plan_workload_name(s->workload));
    }
    if (s->model_size_from) {
        p->model_size = s->model_size;
        why(out, GREY_PLAN_WHY_TOP, "model_size", 1000, "set by %s: %s", s->model_size_from, sz(s->model_size, a));
    }
    p->default_weight = s->weight ? s->weight : 1;
    if (s->weight_from)
        why(out, GREY_PLAN_WHY_TOP, "default_weight", 1000, "set by %s: %u", s->weight_from, s->weight);
    else
        why(out, GREY_PLAN_WHY_TOP, "default_weight", 900,
            "equal shares: a process weighs 1 unless grey-run --weight or an admin's weight says otherwise");
}

static void describe_source(const struct gpu_list *gpus, const struct plan_settings *s, int n, char *buf,
                            size_t len)
{
    size_t o = 0;
    for (int i = 0; i < GPU_SRC_COUNT && o < len; i++)
        if (gpus->sources_used & (1u << i))
            o += (size_t)snprintf(buf + o, len - o, "%s%s", o ? "+" : "", gpu_source_name(i));
    char a[32], b[32];
    if (o < len)
        snprintf(buf + o, len - o, ": %d device%s%s%s%s%s%s%s", n, n == 1 ? "" : "s", s->cap_from ? ", " : "",
                 s->cap_from ? s->cap_from : "", s->cap_from ? " " : "", s->cap_from ? sz(s->cap, a) : "",
                 s->budget_from ? ", budget " : "", s->budget_from ? sz(s->budget, b) : "");
}

int planner_run(const struct gpu_list *gpus, const struct plan_layers *L, struct planner_result *out)
{
    memset(out, 0, sizeof *out);
    out->plan.version = GREY_PLAN_VERSION;
    enum gpu_vendor vendor = GPU_VENDOR_UNKNOWN;
    for (int i = 0; i < gpus->n && vendor == GPU_VENDOR_UNKNOWN; i++)
        if (gpu_known(&gpus->dev[i], GF_VRAM_TOTAL) && gpus->dev[i].vendor != GPU_VENDOR_INTEL &&
            gpus->dev[i].vendor != GPU_VENDOR_OTHER)
            vendor = gpus->dev[i].vendor;
    for (int i = 0; i < gpus->n; i++) {
        const struct gpu_facts *g = &gpus->dev[i];
        const char *name = gpu_known(g, GF_NAME) ? g->name : "unnamed GPU";
        if (!gpu_known(g, GF_VRAM_TOTAL))
            warn(out, "%s GPU %d \"%s\"%s%s: its memory size is unknown (%s); not planned", gpu_vendor_name(g->vendor),
                 g->index, name, g->pci[0] ? " at " : "", g->pci, g->partial ? "its tool's output was cut off" :
                 "no driver or tool reported it");
        else if (g->vendor != vendor)
            warn(out, "%s GPU %d \"%s\": not planned: a plan's device numbers are those of one API, here %s's",
                 gpu_vendor_name(g->vendor), g->index, name, gpu_vendor_name(vendor));
        else if (g->index < 0 || g->index >= GREY_MAX_DEVICES || out->plan.dev[g->index].present)
            warn(out, "%s GPU \"%s\": no free device number below %d for it; not planned", gpu_vendor_name(g->vendor),
                 name, GREY_MAX_DEVICES);
        else {
            plan_device(L, g, out);
            out->planned++;
        }
    }
    if (!out->planned)
        return 0;
    plan_inputs(L, out);
    describe_source(gpus, &L->s, out->planned, out->plan.source, sizeof out->plan.source);
    /* The plan is as sure as its least sure limit. */
    unsigned least = 1000;
    int at = 0;
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (!out->plan.dev[d].present)
            continue;
        for (int k = 0; k < 2; k++) {
            const struct grey_plan_why *w = grey_plan_why_find(&out->notes, d, k ? "process_cap" : "budget");
            if (w && w->confidence < least) {
                least = w->confidence;
                at = d;
            }
        }
    }
    out->plan.has_confidence = true;
    out->plan.confidence = least;
    why(out, GREY_PLAN_WHY_TOP, "confidence", least, "the least sure budget or cap: device %d's", at);
    return out->planned;
}
