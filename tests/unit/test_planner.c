/* The planner, the configuration layers, the detection chain with stand-in tools on PATH, and
 * running tools with limits. Run from the repository root (fixtures in tests/fixtures). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/plan.h"
#include "tools/detect_chain.h"
#include "tools/plan_layers.h"
#include "tools/plan_write.h"
#include "tools/planner.h"
#include "tools/run_capture.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static struct gpu_list gpus;
static struct plan_layers layers;
static struct planner_result res;

/* One NVIDIA device as NVML and the CUDA driver would report it. */
static struct gpu_facts *add_gpu(uint64_t vram, unsigned sms, unsigned slowdown)
{
    struct gpu_facts *g = gpu_list_add(&gpus, GPU_VENDOR_NVIDIA);
    g->api_index = gpus.n - 1;
    snprintf(g->name, sizeof g->name, "Test GPU %d", gpus.n - 1);
    gpu_mark(g, GF_NAME, GPU_SRC_NVML, 950);
    snprintf(g->uuid, sizeof g->uuid, "GPU-%d", gpus.n - 1);
    gpu_mark(g, GF_UUID, GPU_SRC_NVML, 950);
    if (vram) {
        g->vram_total = vram;
        gpu_mark(g, GF_VRAM_TOTAL, GPU_SRC_NVML, 980);
    }
    if (sms) {
        g->sm_count = sms;
        gpu_mark(g, GF_SM_COUNT, GPU_SRC_CUDA, 950);
    }
    if (slowdown) {
        g->temp_slowdown = slowdown;
        gpu_mark(g, GF_TEMP_SLOWDOWN, GPU_SRC_NVML, 950);
        g->temp_shutdown = slowdown + 5;
        gpu_mark(g, GF_TEMP_SHUTDOWN, GPU_SRC_NVML, 950);
    }
    return g;
}

static void reset(void)
{
    memset(&gpus, 0, sizeof gpus);
    memset(&layers, 0, sizeof layers);
    layers.s.mode = GREY_MODE_SAFE;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        layers.cap_limit[d] = layers.admin_cap[d] = layers.budget_limit[d] = layers.user_budget[d] = UINT64_MAX;
}

static int plan_with(enum grey_plan_mode mode, unsigned tenants)
{
    gpu_list_finish(&gpus);
    layers.s.mode = mode;
    layers.s.mode_from = "--mode";
    layers.s.tenants = tenants;
    layers.s.tenants_from = tenants ? "--tenants" : NULL;
    return planner_run(&gpus, &layers, &res);
}

static const struct grey_plan_why *why(int section, const char *key)
{
    const struct grey_plan_why *w = grey_plan_why_find(&res.notes, section, key);
    cr_assert_not_null(w, "no reason for %s", key);
    return w;
}

/* The planned plan, written and read back: what grey-plan writes must pass its own parser. */
static void round_trip(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_eq(grey_plan_write_notes(f, &res.plan, &res.notes), 0);
    fclose(f);
    static struct grey_plan back;
    static struct grey_plan_notes notes;
    char err[512];
    cr_assert_eq(grey_plan_parse_notes(text, len, "planned.conf", &back, &notes, err, sizeof err), 0, "%s\n%s", err,
                 text);
    cr_assert_eq(notes.n, res.notes.n, "every reason survives:\n%s", text);
    free(text);
}

TestSuite(planner, .init = reset);

Test(planner, modes_order_the_caps_and_keep_the_budget)
{
    add_gpu(80 * GiB, 132, 87);
    uint64_t cap[3];
    for (int m = GREY_MODE_SAFE; m <= GREY_MODE_AGGRESSIVE; m++) {
        cr_assert_eq(plan_with((enum grey_plan_mode)m, 0), 1);
        const struct grey_plan_device *d = &res.plan.dev[0];
        cr_assert_eq(d->budget, 72 * GiB, "90%% of VRAM");
        cap[m] = d->process_cap;
        cr_assert(d->process_cap <= d->budget);
        round_trip();
    }
    cr_assert_eq(cap[0], 60 * GiB, "safe 75%%");
    cr_assert_eq(cap[1], 68 * GiB, "balanced 85%%");
    cr_assert_eq(cap[2], 72 * GiB, "aggressive 90%%");
    cr_assert(cap[0] < cap[1] && cap[1] < cap[2]);
}

Test(planner, tenants_divide_the_budget)
{
    add_gpu(80 * GiB, 132, 87);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 4), 1);
    cr_assert_eq(res.plan.dev[0].process_cap, 18 * GiB, "safe: budget / 4, all four can hold it at once");
    cr_assert(strstr(why(0, "process_cap")->reason, "4 tenants") != NULL);
    cr_assert_eq(res.plan.tenants, 4);
    uint64_t safe = res.plan.dev[0].process_cap;
    cr_assert_eq(plan_with(GREY_MODE_BALANCED, 4), 1);
    cr_assert_eq(res.plan.dev[0].process_cap, 22 * GiB + 512 * MiB, "1.25 x 72 / 4");
    cr_assert_eq(plan_with(GREY_MODE_AGGRESSIVE, 4), 1);
    cr_assert_eq(res.plan.dev[0].process_cap, 27 * GiB, "1.5 x 72 / 4");
    cr_assert(res.plan.dev[0].process_cap > safe);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 1), 1);
    cr_assert_eq(res.plan.dev[0].process_cap, 60 * GiB, "one tenant: the mode cap");
    round_trip();
}

Test(planner, tenants_never_push_a_cap_below_the_floor)
{
    add_gpu(8 * GiB, 0, 0);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 64), 1);
    cr_assert_eq(res.plan.dev[0].process_cap, GiB, "7.2 GiB / 64 is 115 MiB: the 1 GiB floor");
    cr_assert(strstr(why(0, "process_cap")->reason, "floor") != NULL);
    layers.s.model_size = 2 * GiB;
    layers.s.model_size_from = "--model-size";
    layers.s.workload = GREY_WORKLOAD_INFERENCE;
    layers.s.workload_from = "--workload";
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 64), 1);
    cr_assert_geq(res.plan.dev[0].process_cap, 2 * GiB + 2 * GiB / 10, "at least the model's inference footprint");
    cr_assert(res.plan.dev[0].process_cap <= res.plan.dev[0].budget);
    round_trip();
}

Test(planner, thermal_from_hardware_or_vendor_defaults)
{
    add_gpu(80 * GiB, 132, 87);
    add_gpu(80 * GiB, 132, 0);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 2);
    cr_assert_eq(res.plan.dev[0].throttle_temp, 87);
    cr_assert_eq(res.plan.dev[0].cooldown_temp, 84, "3 C below what the hardware reports");
    cr_assert_eq(res.plan.dev[0].shutdown_temp, 92);
    cr_assert_geq(why(0, "cooldown_temp")->confidence, 800);
    cr_assert_eq(res.plan.dev[1].throttle_temp, 83, "NVIDIA's default");
    cr_assert_eq(res.plan.dev[1].cooldown_temp, 70);
    cr_assert_eq(res.plan.dev[1].shutdown_temp, 0, "not made up");
    cr_assert_leq(why(1, "cooldown_temp")->confidence, 300, "a default is a guess");
    round_trip();
}

Test(planner, unknown_vram_is_never_planned_as_zero)
{
    add_gpu(0, 132, 87); /* lspci-like: present, memory unknown */
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 0, "nothing to plan");
    cr_assert_eq(res.nwarnings, 1);
    cr_assert(strstr(res.warnings[0], "memory size is unknown") != NULL, "%s", res.warnings[0]);
    add_gpu(24 * GiB, 0, 0);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1, "the device with a size still is");
    cr_assert_not(res.plan.dev[0].present, "no section for the unknown one");
    cr_assert(res.plan.dev[1].present);
}

Test(planner, batch_and_chunk_hints)
{
    add_gpu(80 * GiB, 108, 87);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    unsigned unknown_model = res.plan.dev[0].batch_size;
    unsigned conf_unknown = why(0, "batch_size")->confidence;
    cr_assert_eq(unknown_model, 128, "30 GiB for activations (half the 60 GiB cap)");
    layers.s.model_size = 7 * GiB;
    layers.s.model_size_from = "--model-size";
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_eq(res.plan.dev[0].batch_size, 128, "60 - 28 = 32 GiB for activations (training)");
    cr_assert_gt(why(0, "batch_size")->confidence, conf_unknown, "knowing the model makes the hint surer");
    layers.s.model_size = 14 * GiB; /* 56 GiB training footprint: 4 GiB left */
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_eq(res.plan.dev[0].batch_size, 8);
    cr_assert_eq(res.plan.dev[0].chunk_size, 512 * MiB, "4 GiB / 8 = 512 MiB");
    layers.s.workload = GREY_WORKLOAD_INFERENCE;
    layers.s.workload_from = "--workload";
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_gt(res.plan.dev[0].batch_size, 8, "inference needs far less than training");
    unsigned inference = res.plan.dev[0].batch_size;
    cr_assert_eq(plan_with(GREY_MODE_AGGRESSIVE, 0), 1);
    cr_assert_gt(res.plan.dev[0].batch_size, inference, "aggressive doubles");
    layers.s.model_size = 70 * GiB;
    layers.s.workload = GREY_WORKLOAD_TRAINING;
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_eq(res.plan.dev[0].batch_size, 1, "the model does not fit");
    cr_assert(res.nwarnings >= 1);
    round_trip();
}

Test(planner, sm_count_scales_the_batch)
{
    add_gpu(40 * GiB, 54, 87);
    add_gpu(40 * GiB, 216, 87);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 2);
    cr_assert_lt(res.plan.dev[0].batch_size, res.plan.dev[1].batch_size);
}

/* A board's power limit scales the hints: 300 W cannot feed 132 SMs at full clocks (an A100's
 * 3.7 W per SM: 488 W), 700 W can. */
Test(planner, power_limit_shapes_the_hints)
{
    struct gpu_facts *g = add_gpu(80 * GiB, 132, 89);
    g->power_limit_mw = 700000;
    gpu_mark(g, GF_POWER_LIMIT, GPU_SRC_NVML, 950);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    unsigned batch700 = res.plan.dev[0].batch_size;
    uint64_t chunk700 = res.plan.dev[0].chunk_size;
    cr_assert(strstr(why(0, "batch_size")->reason, "700 W (detected) covers 488 W for 132 SMs"), "%s",
              why(0, "batch_size")->reason);
    layers.s.power_limit_w = 300;
    layers.s.power_limit_from = "--power-limit";
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert(strstr(why(0, "batch_size")->reason, "x0.61: 300 W (--power-limit) < 488 W for 132 SMs"), "%s",
              why(0, "batch_size")->reason);
    cr_assert_eq(res.plan.dev[0].chunk_size, chunk700 / 2, "a capped board gets half the chunk");
    cr_assert(strstr(why(0, "chunk_size")->reason, "the power limit allows 61% of the SMs' full power"), "%s",
              why(0, "chunk_size")->reason);
    cr_assert_leq(res.plan.dev[0].batch_size, batch700);
    layers.s.power_limit_w = 150;
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_lt(res.plan.dev[0].batch_size, batch700, "150 W: a smaller batch");
    round_trip();
}

Test(planner, mig_plans_for_the_instance)
{
    struct gpu_facts *g = add_gpu(40 * GiB, 108, 88);
    g->mig = 1;
    gpu_mark(g, GF_MIG, GPU_SRC_NVML, 950);
    g->mig_vram = 19968 * MiB;
    gpu_mark(g, GF_MIG_VRAM, GPU_SRC_SMI_XML, 900);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_lt(res.plan.dev[0].process_cap, 20 * GiB, "a process sees one instance");
    cr_assert(strstr(why(0, "process_cap")->reason, "MIG") != NULL);
    g->src[GF_MIG_VRAM] = 0; /* instances unknown */
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_lt(why(0, "budget")->confidence, 600, "planned from a size no process can have");
}

Test(planner, explicit_cap_and_budget_and_ceilings)
{
    add_gpu(24 * GiB, 0, 0);
    layers.s.cap = 100 * GiB;
    layers.s.cap_from = "--cap";
    layers.s.budget = 10 * GiB;
    layers.s.budget_from = "GREY_BUDGET";
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_eq(res.plan.dev[0].budget, 10 * GiB);
    cr_assert_eq(res.plan.dev[0].process_cap, 10 * GiB, "clamped to VRAM, then to the budget");
    cr_assert_eq(res.nwarnings, 2, "both clamps are said");
    cr_assert(strstr(why(0, "budget")->reason, "GREY_BUDGET") != NULL);
    /* An admin ceiling as plan_layers_resolve leaves it: the cap is the admin's. */
    layers.s.budget_from = NULL;
    layers.cap_limit[0] = layers.admin_cap[0] = 4 * GiB;
    layers.raised = 1;
    layers.budget_limit[0] = 16 * GiB;
    layers.s.cap = 8 * GiB;
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert_eq(res.plan.dev[0].process_cap, 4 * GiB);
    cr_assert_eq(res.plan.dev[0].budget, 16 * GiB, "90% of 24 GiB lowered to the admin's 16 GiB");
    cr_assert(strstr(why(0, "process_cap")->reason, "admin") != NULL);
    round_trip();
}

Test(planner, plan_confidence_follows_detection)
{
    add_gpu(80 * GiB, 132, 87);
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    unsigned sure = res.plan.confidence;
    reset();
    struct gpu_facts *g = add_gpu(80 * GiB, 0, 0);
    g->src[GF_VRAM_TOTAL] = 1u << GPU_SRC_SMI_CSV;
    g->conf[GF_VRAM_TOTAL] = 500; /* a single source that was cut off */
    cr_assert_eq(plan_with(GREY_MODE_SAFE, 0), 1);
    cr_assert(res.plan.has_confidence);
    cr_assert_lt(res.plan.confidence, sure);
    cr_assert_lt(res.plan.confidence, 500);
}

/* ---------------------------------------------------------------- the layers */

static char tmp[128];

static void make_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/grey-test-layers-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
    for (const char *const *v = (const char *const[]){"GREY_MODE", "GREY_TENANTS", "GREY_MODEL_SIZE", "GREY_WORKLOAD",
                                                       "GREY_CAP", "GREY_BUDGET", "GREY_WEIGHT", NULL};
         *v; v++)
        unsetenv(*v);
    char xdg[256];
    snprintf(xdg, sizeof xdg, "%s/xdg", tmp);
    setenv("XDG_CONFIG_HOME", xdg, 1);
    char admin[256];
    snprintf(admin, sizeof admin, "%s/admin.conf", tmp);
    setenv("GREY_ADMIN_PLAN", admin, 1);
}

static void remove_tmp(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", tmp);
}

static void write_at(const char *rel, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    /* mkdir -p of the directories in rel */
    for (char *p = path + strlen(tmp) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    cr_assert_eq(chmod(path, mode), 0);
}

/* An admin plan is root-owned: only root can write one here. */
static void need_root(void)
{
    struct stat st;
    if (geteuid() != 0)
        cr_skip_test("not root: an admin plan must be root-owned");
    if (stat(GREY_ADMIN_PLAN_PATH, &st) == 0)
        cr_skip_test("%s exists: GREY_ADMIN_PLAN cannot stand in for it", GREY_ADMIN_PLAN_PATH);
}

TestSuite(layers, .init = make_tmp, .fini = remove_tmp);

#define ADMIN "grey-plan-version = 1\nmode = balanced\ntenants = 2\n[device 0]\nbudget = 16GiB\nprocess_cap = 4GiB\n"

Test(layers, order_admin_user_environment_flags)
{
    need_root();
    char err[512];
    write_at("admin.conf", ADMIN, 0644);
    write_at("xdg/grey/plan.conf", "grey-plan-version = 1\ntenants = 3\nworkload = inference\n", 0644);
    setenv("GREY_MODEL_SIZE", "7GiB", 1);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 0, "%s", err);
    cr_assert(layers.have_admin && layers.admin.admin, "root-owned 0644 at the admin path");
    cr_assert(layers.have_user);
    cr_assert_eq(layers.s.mode, GREY_MODE_BALANCED, "the admin's default");
    cr_assert(strstr(layers.s.mode_from, "admin.conf") != NULL);
    cr_assert_eq(layers.s.tenants, 3, "the user's config over the admin's");
    cr_assert_eq(layers.s.workload, GREY_WORKLOAD_INFERENCE);
    cr_assert_eq(layers.s.model_size, 7 * GiB);
    cr_assert_str_eq(layers.s.model_size_from, "GREY_MODEL_SIZE");
    cr_assert_eq(plan_layers_set(&layers, "tenants", "5", "--tenants", err, sizeof err), 0);
    cr_assert_eq(layers.s.tenants, 5, "flags last");
    plan_layers_resolve(&layers);
    cr_assert_eq(layers.cap_limit[0], 4 * GiB, "the admin's ceiling");
    cr_assert_eq(layers.budget_limit[0], 16 * GiB);
}

Test(layers, a_user_may_lower_the_admin_cap_never_raise_it)
{
    need_root();
    char err[512];
    write_at("admin.conf", ADMIN, 0644);
    setenv("GREY_CAP", "8GiB", 1);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 0, "%s", err);
    plan_layers_resolve(&layers);
    cr_assert_eq(layers.cap_limit[0], 4 * GiB, "GREY_CAP=8GiB does not raise the admin's 4 GiB");
    cr_assert_eq(layers.raised, 1u, "and says so for device 0");
    setenv("GREY_CAP", "2GiB", 1);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 0, "%s", err);
    plan_layers_resolve(&layers);
    cr_assert_eq(layers.cap_limit[0], 2 * GiB, "GREY_CAP=2GiB lowers it");
    cr_assert_eq(layers.raised, 0u);
    unsetenv("GREY_CAP");
    write_at("xdg/grey/plan.conf", "grey-plan-version = 1\n[device 0]\nbudget = 20GiB\nprocess_cap = 12GiB\n", 0644);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 0, "%s", err);
    cr_assert_eq(plan_layers_set(&layers, "cap", "6GiB", "--cap", err, sizeof err), 0);
    plan_layers_resolve(&layers);
    cr_assert_eq(layers.cap_limit[0], 4 * GiB, "neither the user's plan nor --cap raises it");
    cr_assert_eq(layers.budget_limit[0], 16 * GiB);
    cr_assert_eq(layers.user_budget[0], 20 * GiB, "the user's budget is a preference, under the admin's");
    /* The same file, writable by others: nobody's ceiling. */
    write_at("admin.conf", ADMIN, 0666);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 0, "%s", err);
    cr_assert_not(layers.admin.admin);
    cr_assert_eq(plan_layers_set(&layers, "cap", "6GiB", "--cap", err, sizeof err), 0);
    plan_layers_resolve(&layers);
    cr_assert_eq(layers.cap_limit[0], 6 * GiB);
}

Test(layers, malformed_settings_name_their_layer)
{
    char err[512];
    setenv("GREY_TENANTS", "four", 1);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 1);
    cr_assert_str_eq(err, "GREY_TENANTS: 'four' is not a number of tenants (1..1024)");
    unsetenv("GREY_TENANTS");
    setenv("GREY_CAP", "12XB", 1);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 1);
    cr_assert(strncmp(err, "GREY_CAP: unknown unit 'XB'", 27) == 0, "%s", err);
    unsetenv("GREY_CAP");
    setenv("GREY_WORKLOAD", "serving", 1);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 1);
    unsetenv("GREY_WORKLOAD");
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), 0, "%s", err);
    cr_assert_eq(plan_layers_set(&layers, "mode", "fast", "--mode", err, sizeof err), -1);
    cr_assert_str_eq(err, "--mode: unknown mode 'fast' (use safe, balanced or aggressive)");
    cr_assert_eq(plan_layers_set(&layers, "budget", "0", "--budget", err, sizeof err), -1);
    cr_assert_eq(plan_layers_set(&layers, "weight", "0", "--weight", err, sizeof err), -1);
    write_at("xdg/grey/plan.conf", "grey-plan-version = 1\ntenants = 0\n", 0644);
    cr_assert_eq(plan_layers_load(&layers, err, sizeof err), -1);
    cr_assert(strstr(err, "/xdg/grey/plan.conf:2: tenants: 0 is out of range") != NULL, "%s", err);
}

/* ---------------------------------------------------------------- the chain, with stand-ins */

static struct detect_result result;

static void fake_tools(const char *sources, const char *smi, const char *lspci)
{
    char path[512];
    cr_assert_not_null(getcwd(path, 256));
    strcat(path, "/tests/fixtures/bin");
    setenv("PATH", path, 1); /* only the stand-ins: whatever this machine has stays out */
    setenv("GREY_DETECT_SOURCES", sources, 1);
    if (smi)
        setenv("GREY_FIXTURE_SMI", smi, 1);
    if (lspci)
        setenv("GREY_FIXTURE_LSPCI", lspci, 1);
}

Test(chain, nvidia_smi_both_forms_merged)
{
    fake_tools("nvidia-smi,lspci", "dgx-h100", "server-mixed.txt");
    char err[256];
    cr_assert_eq(detect_chain(&result, err, sizeof err), 8, "%s", result.failure);
    const struct gpu_facts *g = &result.list.dev[3];
    cr_assert_eq(g->index, 3);
    cr_assert_eq(g->vram_total, 81559 * MiB);
    cr_assert_eq(g->temp_slowdown, 87, "from the XML");
    cr_assert_eq(g->cc, 90, "from the CSV");
    cr_assert_eq(result.status[CHAIN_SMI].devices, 8);
    cr_assert_not(result.status[CHAIN_LSPCI].ran, "lspci is the last resort");
    cr_assert_not(result.status[CHAIN_NVML].selected);
}

Test(chain, old_driver_is_asked_again_without_compute_cap)
{
    fake_tools("nvidia-smi", "v100-old-driver", NULL);
    char err[256];
    cr_assert_eq(detect_chain(&result, err, sizeof err), 2, "%s", result.failure);
    cr_assert_eq(result.list.dev[1].vram_total, 16160 * MiB);
    cr_assert(gpu_known(&result.list.dev[1], GF_VRAM_TOTAL) &&
              (result.list.dev[1].src[GF_VRAM_TOTAL] & (1u << GPU_SRC_SMI_CSV)), "the CSV answered the second time");
}

Test(chain, broken_driver_falls_back_to_lspci)
{
    fake_tools("nvidia-smi,lspci", "no-driver", "server-mixed.txt");
    char err[256];
    cr_assert_eq(detect_chain(&result, err, sizeof err), 4);
    cr_assert(result.status[CHAIN_LSPCI].ran);
    for (int i = 0; i < result.list.n; i++)
        cr_assert_not(gpu_known(&result.list.dev[i], GF_VRAM_TOTAL));
    bool noted = false;
    for (int i = 0; i < result.list.nnotes; i++)
        noted |= strstr(result.list.notes[i], "NVIDIA-SMI has failed") != NULL;
    cr_assert(noted, "the garbage is noted");
    static struct plan_layers l;
    memset(&l, 0, sizeof l);
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        l.cap_limit[d] = l.admin_cap[d] = l.budget_limit[d] = l.user_budget[d] = UINT64_MAX;
    cr_assert_eq(planner_run(&result.list, &l, &res), 0, "nothing with a size: nothing planned");
}

Test(chain, nothing_anywhere_gives_every_reason)
{
    fake_tools("nvidia-smi,lspci", "no-driver", "garbage.txt");
    char err[256];
    cr_assert_eq(detect_chain(&result, err, sizeof err), 0);
    cr_assert(strstr(result.failure, "nvidia-smi lists no GPU") != NULL, "%s", result.failure);
    cr_assert(strstr(result.failure, "lspci shows no display controller") != NULL, "%s", result.failure);
    setenv("PATH", "/nonexistent", 1);
    cr_assert_eq(detect_chain(&result, err, sizeof err), 0);
    cr_assert(strstr(result.failure, "nvidia-smi: not found in PATH") != NULL, "%s", result.failure);
}

Test(chain, amd_through_detect_amd)
{
    fake_tools("amd", NULL, NULL);
    setenv("GREY_SYSFS_ROOT", "tests/fixtures/amd/sysfs", 1);
    char err[256];
    cr_assert_eq(detect_chain(&result, err, sizeof err), 2, "%s", result.failure);
    cr_assert_eq(result.list.dev[0].vendor, GPU_VENDOR_AMD);
    cr_assert_eq(result.list.dev[0].vram_total, 192 * GiB);
    cr_assert_eq(gpu_field_source(&result.list.dev[0], GF_VRAM_TOTAL), GPU_SRC_AMD_SYSFS);
    cr_assert_lt(result.list.dev[1].conf[GF_NAME], gpu_source_confidence(GPU_SRC_AMD_SYSFS),
                 "a name made from the PCI id is less sure");
}

Test(chain, unknown_source_is_refused)
{
    setenv("GREY_DETECT_SOURCES", "nvml,smi", 1);
    char err[256];
    cr_assert_eq(detect_chain(&result, err, sizeof err), -1);
    cr_assert_str_eq(err, "GREY_DETECT_SOURCES: unknown source 'smi' (use nvml, cuda, nvidia-smi, amd, lspci)");
}

/* ---------------------------------------------------------------- running tools */

Test(run_capture, limits)
{
    struct capture cap;
    char err[256];
    const char *missing[] = {"grey-no-such-tool", NULL};
    cr_assert_eq(run_capture(missing, 1024, 1000, &cap, err, sizeof err), -1);
    cr_assert_str_eq(err, "grey-no-such-tool: not found in PATH");
    const char *hang[] = {"/bin/sh", "-c", "echo before; exec sleep 10", NULL};
    cr_assert_eq(run_capture(hang, 1024, 300, &cap, err, sizeof err), 0);
    cr_assert(cap.timed_out);
    cr_assert_str_eq(cap.out, "before\n");
    capture_free(&cap);
    const char *big[] = {"/bin/sh", "-c", "yes grey | head -c 100000", NULL};
    cr_assert_eq(run_capture(big, 1000, 5000, &cap, err, sizeof err), 0);
    cr_assert(cap.truncated);
    cr_assert_eq(cap.len, 1000);
    capture_free(&cap);
    const char *fails[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL};
    cr_assert_eq(run_capture(fails, 1024, 5000, &cap, err, sizeof err), 0);
    cr_assert_eq(cap.exit_status, 3);
    cr_assert_str_eq(cap.out, "out\n", "stderr is not mixed in");
    capture_free(&cap);
}
