/* Fair-share weights and ceilings: parsing, and choosing a process's weight from its plans. */
#include <criterion/criterion.h>
#include <string.h>

#include "policy/weights.h"

Test(weights, parse_weight)
{
    uint32_t w = 0;
    char err[128];
    cr_assert_eq(grey_weight_parse("3", &w, err, sizeof err), 0);
    cr_assert_eq(w, 3);
    cr_assert_eq(grey_weight_parse("10000", &w, err, sizeof err), 0);
    cr_assert_eq(w, 10000);
    const char *bad[] = {"", "0", "10001", "-1", "2.5", "3x", " 3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        w = 77;
        err[0] = '\0';
        cr_assert_eq(grey_weight_parse(bad[i], &w, err, sizeof err), -1, "'%s' must be refused", bad[i]);
        cr_assert_eq(w, 77, "a refused weight must not be stored");
        cr_assert(strstr(err, bad[i]) != NULL, "the message names the value: %s", err);
    }
    cr_assert_eq(grey_weight_parse(NULL, &w, NULL, 0), -1, "NULL and no error buffer are fine");
}

Test(weights, parse_share)
{
    struct { const char *text; uint32_t share; } good[] = {
        {"25%", 2500}, {"25", 2500}, {"12.5%", 1250}, {"0.01%", 1}, {"100%", 10000}, {"33.33", 3333},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint32_t s = 0;
        cr_assert_eq(grey_share_parse(good[i].text, &s, NULL, 0), 0, "'%s' is a share", good[i].text);
        cr_assert_eq(s, good[i].share, "'%s' -> %u", good[i].text, s);
    }
    const char *bad[] = {"", "0%", "0", "100.01%", "101", "12.345%", "%", "25%%", "abc", "-5%", ".5", "5."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t s = 42;
        char err[128] = "";
        cr_assert_eq(grey_share_parse(bad[i], &s, err, sizeof err), -1, "'%s' must be refused", bad[i]);
        cr_assert_eq(s, 42);
        cr_assert(err[0], "a refusal says why");
    }
}

Test(weights, format_share)
{
    char b[16];
    cr_assert_str_eq(grey_share_format(2500, b, sizeof b), "25%");
    cr_assert_str_eq(grey_share_format(1250, b, sizeof b), "12.5%");
    cr_assert_str_eq(grey_share_format(1, b, sizeof b), "0.01%");
}

static struct grey_plan admin, user;
static struct grey_identity alice;

static void plans_fresh(void)
{
    memset(&admin, 0, sizeof admin);
    memset(&user, 0, sizeof user);
    admin.admin = true;
    memset(&alice, 0, sizeof alice);
    alice.uid = 1000;
    strcpy(alice.user, "alice");
    alice.ngroups = 2;
    alice.gid[0] = 100;
    strcpy(alice.group[0], "students");
    alice.gid[1] = 200;
    strcpy(alice.group[1], "ml");
}

static struct grey_plan_principal *add_principal(struct grey_plan *p, bool group, const char *name, unsigned weight)
{
    struct grey_plan_principal *pr = &p->principal[p->nprincipals++];
    pr->is_group = group;
    strcpy(pr->name, name);
    pr->process_cap = UINT64_MAX;
    pr->weight = weight;
    return pr;
}

TestSuite(weights_plan, .init = plans_fresh);

Test(weights_plan, nobody_says_means_one)
{
    uint32_t w[GREY_MAX_DEVICES];
    grey_weights_resolve(NULL, 0, NULL, 0, w, NULL);
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        cr_assert_eq(w[d], 1);
}

Test(weights_plan, user_beats_group_beats_device_beats_default)
{
    user.default_weight = 2;
    user.dev[1].present = true;
    user.dev[1].weight = 3;
    cr_assert_eq(grey_plan_weight(&user, &alice, 0), 2, "the plan's default_weight");
    cr_assert_eq(grey_plan_weight(&user, &alice, 1), 3, "the device's weight");
    add_principal(&user, true, "students", 6);
    add_principal(&user, true, "200", 5); /* numeric gid */
    cr_assert_eq(grey_plan_weight(&user, &alice, 1), 5, "the smallest of her groups' weights");
    add_principal(&user, false, "alice", 8);
    cr_assert_eq(grey_plan_weight(&user, &alice, 1), 8, "her own section wins");
    cr_assert_eq(grey_plan_weight(&user, NULL, 1), 3, "no identity: only device and default apply");
    add_principal(&user, false, "bob", 9);
    cr_assert_eq(grey_plan_weight(&user, &alice, 0), 8, "someone else's section does not apply");
}

Test(weights_plan, a_cap_only_section_sets_no_weight)
{
    struct grey_plan_principal *pr = add_principal(&user, false, "alice", 0);
    pr->process_cap = 1 << 20;
    user.default_weight = 4;
    cr_assert_eq(grey_plan_weight(&user, &alice, 0), 4);
}

Test(weights_plan, admin_weights_are_a_ceiling)
{
    add_principal(&admin, false, "alice", 4);
    const struct grey_plan *plans[] = {&admin, &user};
    uint32_t w[GREY_MAX_DEVICES];
    grey_devmask raised = 0;

    grey_weights_resolve(plans, 2, &alice, 0, w, &raised);
    cr_assert_eq(w[0], 4, "the admin's weight applies when she chose none");
    cr_assert_eq(raised, 0);

    grey_weights_resolve(plans, 2, &alice, 2, w, &raised);
    cr_assert_eq(w[0], 2, "she may lower it");
    cr_assert_eq(raised, 0);

    grey_weights_resolve(plans, 2, &alice, 9, w, &raised);
    cr_assert_eq(w[0], 4, "she may not raise it");
    cr_assert_eq(raised, ~(grey_devmask)0, "and is told so on every device");

    user.default_weight = 7;
    grey_weights_resolve(plans, 2, &alice, 0, w, &raised);
    cr_assert_eq(w[0], 4, "nor through her own plan");
}

Test(weights_plan, the_user_chooses_below_no_ceiling)
{
    user.default_weight = 3;
    const struct grey_plan *plans[] = {&user};
    uint32_t w[GREY_MAX_DEVICES];
    grey_weights_resolve(plans, 1, &alice, 0, w, NULL);
    cr_assert_eq(w[5], 3);
    grey_weights_resolve(plans, 1, &alice, 6, w, NULL);
    cr_assert_eq(w[5], 6, "GREY_WEIGHT replaces the user's plan");
}

Test(weights_plan, per_device_admin_weights)
{
    admin.dev[0].present = admin.dev[1].present = true;
    admin.dev[0].weight = 2;
    const struct grey_plan *plans[] = {&admin};
    uint32_t w[GREY_MAX_DEVICES];
    grey_devmask raised;
    grey_weights_resolve(plans, 1, &alice, 5, w, &raised);
    cr_assert_eq(w[0], 2);
    cr_assert_eq(w[1], 5, "no admin weight on device 1: her choice stands");
    cr_assert_eq(raised, 1u);
}
