/* The Slurm plugin's pure parts (slurm/): the admin's plugstack.conf arguments, the users'
 * options with grey-run's refusals, and the default cap from the admin or from shards. */
#include <criterion/criterion.h>
#include <string.h>

#include "slurm/spank_cap.h"
#include "slurm/spank_config.h"
#include "slurm/spank_request.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static int parse(struct spank_config *c, char *err, size_t n, int ac, char **av)
{
    return spank_config_parse(ac, av, c, err, n);
}

Test(spank_config, every_argument)
{
    char *av[] = {"hook=/opt/grey/lib/libgreyhook.so", "plan=/etc/grey/plan.conf", "default_cap=8GiB",
                  "shards_per_gpu=4"};
    struct spank_config c;
    char err[256];
    cr_assert_eq(parse(&c, err, sizeof err, 4, av), 0, "%s", err);
    cr_assert_str_eq(c.hook, "/opt/grey/lib/libgreyhook.so");
    cr_assert_str_eq(c.plan, "/etc/grey/plan.conf");
    cr_assert(c.have_default_cap);
    cr_assert_eq(c.default_cap, 8 * GiB);
    cr_assert_eq(c.shards_per_gpu, 4);
}

Test(spank_config, bad_arguments_are_named)
{
    static const struct {
        const char *arg, *why;
    } cases[] = {
        {"default_cap=lots", "default_cap=lots: 'lots' is not a size"},
        {"default_cap=0", "default_cap=0: size must be greater than zero"},
        {"shards_per_gpu=0", "shards_per_gpu=0: wants a whole number"},
        {"shards_per_gpu=-2", "shards_per_gpu=-2"},
        {"shards_per_gpu=4x", "shards_per_gpu=4x"},
        {"plan=etc/plan.conf", "plan=etc/plan.conf: needs an absolute path"},
        {"cap=1GiB", "unknown argument 'cap'"},
        {"verbose", "argument 'verbose' is not KEY=VALUE"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *av[] = {"hook=/h.so", (char *)cases[i].arg};
        struct spank_config c;
        char err[256] = "";
        cr_assert_eq(parse(&c, err, sizeof err, 2, av), -1, "%s accepted", cases[i].arg);
        cr_assert(strstr(err, cases[i].why), "%s: got '%s'", cases[i].arg, err);
    }
}

Test(spank_config, the_hook_is_required)
{
    char *av[] = {"default_cap=1GiB"};
    struct spank_config c;
    char err[256];
    cr_assert_eq(parse(&c, err, sizeof err, 1, av), -1);
    cr_assert(strstr(err, "hook=PATH"), "%s", err);
}

Test(spank_request, values_grey_run_takes)
{
    struct spank_request r;
    memset(&r, 0, sizeof r);
    char err[256];
    cr_assert_eq(spank_request_set(&r, SPANK_OPT_MEM_CAP, "512MiB", err, sizeof err), 0, "%s", err);
    cr_assert(r.have_cap);
    cr_assert_eq(r.cap, 512 * MiB);
    cr_assert_eq(spank_request_set(&r, SPANK_OPT_MEM_CAP, "1.5G", err, sizeof err), 0, "%s", err);
    cr_assert_eq(r.cap, 1536 * MiB, "set twice (slurmstepd calls twice): the last wins");
    cr_assert_eq(spank_request_set(&r, SPANK_OPT_WEIGHT, "3", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.weight, "3");
    cr_assert_eq(spank_request_set(&r, SPANK_OPT_MAX_SHARE, "50%", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.max_share, "50%");
    cr_assert_eq(spank_request_set(&r, SPANK_OPT_DEDUP, NULL, err, sizeof err), 0, "%s", err);
    cr_assert(r.dedup);
    cr_assert_str_eq(r.dedup_file, "");
    cr_assert_eq(spank_request_set(&r, SPANK_OPT_DEDUP, "/tmp/r.json", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(r.dedup_file, "/tmp/r.json");
}

Test(spank_request, refusals_name_the_option_and_value)
{
    static const struct {
        int id;
        const char *value, *why;
    } cases[] = {
        {SPANK_OPT_MEM_CAP, "12XB", "--gpu-mem-cap=12XB: unknown unit 'XB'"},
        {SPANK_OPT_MEM_CAP, "0", "--gpu-mem-cap=0: size must be greater than zero"},
        {SPANK_OPT_MEM_CAP, NULL, "--gpu-mem-cap=: needs a SIZE"},
        {SPANK_OPT_WEIGHT, "0", "--gpu-weight=0:"},
        {SPANK_OPT_WEIGHT, "10001", "--gpu-weight=10001:"},
        {SPANK_OPT_MAX_SHARE, "150%", "--gpu-max-share=150%:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct spank_request r;
        memset(&r, 0, sizeof r);
        char err[256] = "";
        cr_assert_eq(spank_request_set(&r, cases[i].id, cases[i].value, err, sizeof err), -1, "%s accepted",
                     cases[i].why);
        cr_assert(strstr(err, cases[i].why), "wanted '%s', got '%s'", cases[i].why, err);
        cr_assert(!r.have_cap && !r.weight[0] && !r.max_share[0], "a refused value is not kept");
    }
}

static struct spank_config shard_config(void)
{
    struct spank_config c;
    memset(&c, 0, sizeof c);
    c.shards_per_gpu = 4;
    c.have_default_cap = true;
    c.default_cap = 768 * MiB;
    return c;
}

static struct grey_plan two_gpus(void)
{
    struct grey_plan p;
    memset(&p, 0, sizeof p);
    p.dev[0].present = p.dev[1].present = true;
    p.dev[0].budget = 2 * GiB;
    p.dev[1].budget = 6 * GiB;
    return p;
}

Test(spank_cap, shards_get_their_part_of_their_gpus_budget)
{
    struct spank_config c = shard_config();
    struct grey_plan p = two_gpus();
    uint64_t cap = 0;
    char how[256];
    cr_assert_eq(spank_default_cap(&c, &p, "0", "1", &cap, how, sizeof how), 1);
    cr_assert_eq(cap, 512 * MiB);
    cr_assert_eq(spank_default_cap(&c, &p, "1", "2", &cap, how, sizeof how), 1);
    cr_assert_eq(cap, 3 * GiB, "2 of 4 shards of GPU 1's 6 GiB");
    cr_assert(strstr(how, "2 of GPU 1's 4 shards"), "%s", how);
    cr_assert_eq(spank_default_cap(&c, &p, "0", "4", &cap, how, sizeof how), 1);
    cr_assert_eq(cap, 2 * GiB, "all shards: the whole budget, never more");
}

Test(spank_cap, without_shards_the_admins_default)
{
    struct spank_config c = shard_config();
    struct grey_plan p = two_gpus();
    uint64_t cap = 0;
    char how[256];
    cr_assert_eq(spank_default_cap(&c, &p, "0", NULL, &cap, how, sizeof how), 1);
    cr_assert_eq(cap, 768 * MiB);
    c.have_default_cap = false;
    cr_assert_eq(spank_default_cap(&c, &p, "0", NULL, &cap, how, sizeof how), 0, "no default: no cap");
}

Test(spank_cap, shards_that_cannot_be_placed_fall_back_and_say_why)
{
    struct spank_config c = shard_config();
    struct grey_plan p = two_gpus();
    uint64_t cap = 0;
    char how[256];
    cr_assert_eq(spank_default_cap(&c, &p, "3", "1", &cap, how, sizeof how), 1);
    cr_assert_eq(cap, 768 * MiB);
    cr_assert(strstr(how, "no [device 3] budget"), "%s", how);
    cr_assert_eq(spank_default_cap(&c, &p, "GPU-abc", "1", &cap, how, sizeof how), 1);
    cr_assert(strstr(how, "GPU list 'GPU-abc' names no GPU index"), "%s", how);
    cr_assert_eq(spank_default_cap(&c, &p, "0", "9", &cap, how, sizeof how), 1);
    cr_assert(strstr(how, "is not 1..4 shards"), "%s", how);
    cr_assert_eq(spank_default_cap(&c, NULL, "0", "1", &cap, how, sizeof how), 1, "no admin plan: the default");
}
