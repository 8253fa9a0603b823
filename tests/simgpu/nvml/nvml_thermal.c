/* The simulated GPU's temperature and power, as NVML reports them.
 *
 * Heat follows the device's busy time, which the shared state knows (../sim_state.h): everything
 * ever queued on the physical device (queued_ns) less what still waits in its FIFO (tail_ns - now)
 * is what it has run. Between two updates the device was busy a fraction u of the time, and the
 * temperature moves toward idle + (busy - idle) * u with time constant tau (a first-order,
 * Newton-cooling model: it rises while the device works, falls while it idles, and under a duty
 * cycle settles where that duty cycle puts it). The step is T += (target - T) * dt / (tau + dt),
 * which needs no libm and stays stable for any gap between readings.
 *
 * The model's state lives in the shared state too, so every process on the node (each hooked
 * process, grey-run, grey-plan) reads one temperature. Whoever reads brings it up to date, under a
 * try-lock holding its pid: a reader that finds it taken returns the last temperature rather than
 * wait, and takes over a lock whose holder died.
 *
 * Power: idle + (busy - idle) * u of the last update, never above the enforced limit.
 *
 * Settings (docs/simgpu.md): GREY_SIM_TEMP_IDLE (34 C), GREY_SIM_TEMP_BUSY (80 C: where a GPU
 * busy all the time settles; GREY_SIM_TEMP_BUSY_<N> for physical GPU N), GREY_SIM_TEMP_TAU_MS
 * (20000), GREY_SIM_TEMP_SLOWDOWN (89), GREY_SIM_TEMP_SHUTDOWN (92), GREY_SIM_POWER_LIMIT_W (700),
 * GREY_SIM_POWER_IDLE_W (70), GREY_SIM_POWER_BUSY_W (the limit). GREY_SIM_NVML_THRESHOLDS=0 makes
 * the thresholds unsupported, as on some virtual GPUs. A malformed value is said on stderr once
 * and its default used (NVML calls cannot fail a test setup the way nvmlInit can). */
#include "nvml_sim.h"
#include "tests/simgpu/sim_state.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define UPDATE_MIN_NS 10000000ull /* shorter gaps say too little about the busy fraction */

struct thermal_settings {
    unsigned idle_c, busy_c[SIM_NODE_MAX_GPUS], slowdown_c, shutdown_c;
    uint64_t tau_ns;
    unsigned power_limit_w, power_idle_w, power_busy_w;
};

static struct thermal_settings ts;
static pthread_once_t ts_once = PTHREAD_ONCE_INIT;

static unsigned setting(const char *name, unsigned def, unsigned lo, unsigned hi)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return def;
    char *end;
    errno = 0;
    unsigned long x = strtoul(v, &end, 10);
    if (errno || *end || v[0] == '-' || x < lo || x > hi) {
        fprintf(stderr, "simgpu: %s: '%s' is not a whole number from %u to %u; using %u\n", name, v, lo, hi, def);
        return def;
    }
    return (unsigned)x;
}

static void load_settings(void)
{
    ts.idle_c = setting("GREY_SIM_TEMP_IDLE", 34, 0, 150);
    unsigned busy = setting("GREY_SIM_TEMP_BUSY", 80, 0, 150);
    for (int g = 0; g < SIM_NODE_MAX_GPUS; g++) {
        char name[40];
        snprintf(name, sizeof name, "GREY_SIM_TEMP_BUSY_%d", g);
        ts.busy_c[g] = setting(name, busy, 0, 150);
    }
    ts.tau_ns = (uint64_t)setting("GREY_SIM_TEMP_TAU_MS", 20000, 1, 3600000) * 1000000ull;
    ts.slowdown_c = setting("GREY_SIM_TEMP_SLOWDOWN", 89, 1, 150);
    ts.shutdown_c = setting("GREY_SIM_TEMP_SHUTDOWN", 92, 1, 150);
    ts.power_limit_w = setting("GREY_SIM_POWER_LIMIT_W", 700, 1, 10000);
    ts.power_idle_w = setting("GREY_SIM_POWER_IDLE_W", 70, 0, 10000);
    ts.power_busy_w = setting("GREY_SIM_POWER_BUSY_W", ts.power_limit_w, 0, 10000);
}

static const struct thermal_settings *settings(void)
{
    pthread_once(&ts_once, load_settings);
    return &ts;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* The time physical device q has been busy up to now. */
static uint64_t busy_ns(struct sim_state_queue *q, uint64_t now)
{
    uint64_t queued = atomic_load(&q->queued_ns), tail = atomic_load(&q->tail_ns);
    uint64_t waiting = tail > now ? tail - now : 0;
    return queued > waiting ? queued - waiting : 0;
}

/* Brings physical device phys (a GPU) up to date and returns its temperature in thousandths of a
 * degree, and the busy fraction of the last update in 1/10000. */
static uint64_t temperature_mc(int phys, unsigned *util)
{
    const struct thermal_settings *s = settings();
    struct sim_state_queue *q = &sim_state()->queue[phys];
    uint64_t idle_mc = (uint64_t)s->idle_c * 1000, busy_mc = (uint64_t)s->busy_c[phys % SIM_NODE_MAX_GPUS] * 1000;
    uint64_t holder = 0, me = (uint64_t)getpid();
    bool mine = atomic_compare_exchange_strong(&q->heat_lock, &holder, me);
    /* A holder killed mid-update would freeze the temperature for good: its lock is taken over. */
    if (!mine && holder != me && kill((pid_t)holder, 0) != 0 && errno == ESRCH)
        mine = atomic_compare_exchange_strong(&q->heat_lock, &holder, me);
    if (mine) {
        uint64_t now = now_ns(), busy = busy_ns(q, now), at = atomic_load(&q->heat_at_ns);
        if (at == 0) { /* the first reading on this node: the GPU has been idle */
            atomic_store(&q->heat_mc, idle_mc);
            atomic_store(&q->heat_busy_ns, busy);
            atomic_store(&q->heat_at_ns, now);
        } else if (now > at && now - at >= UPDATE_MIN_NS) {
            uint64_t dt = now - at, was = atomic_load(&q->heat_busy_ns);
            uint64_t ran = busy > was ? busy - was : 0;
            if (ran > dt)
                ran = dt;
            double u = (double)ran / (double)dt;
            double target = (double)idle_mc + ((double)busy_mc - (double)idle_mc) * u;
            double t = (double)atomic_load(&q->heat_mc);
            t += (target - t) * (double)dt / (double)(s->tau_ns + dt);
            atomic_store(&q->heat_mc, t < 0 ? 0 : (uint64_t)t);
            atomic_store(&q->heat_util, (uint64_t)(u * 10000));
            atomic_store(&q->heat_busy_ns, busy > was ? busy : was);
            atomic_store(&q->heat_at_ns, now);
        }
        atomic_store(&q->heat_lock, 0);
    }
    uint64_t mc = atomic_load(&q->heat_mc);
    if (util)
        *util = (unsigned)atomic_load(&q->heat_util);
    return mc ? mc : idle_mc;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, unsigned int sensor, unsigned int *c)
{
    nvmlReturn_t r = nvml_sim_check(d, false);
    if (r != NVML_SUCCESS)
        return r;
    if (!c || sensor != NVML_TEMPERATURE_GPU)
        return NVML_ERROR_INVALID_ARGUMENT;
    *c = (unsigned)((temperature_mc(d->phys, NULL) + 500) / 1000);
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t d, unsigned int type, unsigned int *c)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, c);
    if (r != NVML_SUCCESS)
        return r;
    const char *off = getenv("GREY_SIM_NVML_THRESHOLDS");
    if (off && strcmp(off, "0") == 0)
        return NVML_ERROR_NOT_SUPPORTED;
    switch (type) {
    case NVML_TEMPERATURE_THRESHOLD_SHUTDOWN: *c = settings()->shutdown_c; return NVML_SUCCESS;
    case NVML_TEMPERATURE_THRESHOLD_SLOWDOWN: *c = settings()->slowdown_c; return NVML_SUCCESS;
    default: return NVML_ERROR_NOT_SUPPORTED;
    }
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned int *mw)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, mw);
    if (r != NVML_SUCCESS)
        return r;
    *mw = settings()->power_limit_w * 1000;
    return NVML_SUCCESS;
}

EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned int *mw)
{
    return nvmlDeviceGetPowerManagementLimit(d, mw);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw)
{
    nvmlReturn_t r = nvml_sim_check_arg(d, false, mw);
    if (r != NVML_SUCCESS)
        return r;
    const struct thermal_settings *s = settings();
    unsigned util;
    temperature_mc(d->phys, &util);
    double w = s->power_idle_w + ((double)s->power_busy_w - (double)s->power_idle_w) * util / 10000.0;
    if (w > s->power_limit_w)
        w = s->power_limit_w;
    *mw = w < 0 ? 0 : (unsigned)(w * 1000);
    return NVML_SUCCESS;
}
