/* Which cap a process gets: device caps, [user]/[group] caps, admin ceilings and GREY_CAP; and
 * which ledger it uses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/caps.h"
#include "policy/ledger_path.h"

#define MiB (1024ULL * 1024)
#define GiB (1024ULL * MiB)

static struct grey_identity alice(void)
{
    struct grey_identity id;
    memset(&id, 0, sizeof id);
    id.uid = 1001;
    snprintf(id.user, sizeof id.user, "alice");
    id.ngroups = 2;
    id.gid[0] = 100;
    snprintf(id.group[0], sizeof id.group[0], "users");
    id.gid[1] = 2000;
    snprintf(id.group[1], sizeof id.group[1], "students");
    return id;
}

static void add_principal(struct grey_plan *p, bool group, const char *name, uint64_t cap)
{
    struct grey_plan_principal *pr = &p->principal[p->nprincipals++];
    pr->is_group = group;
    snprintf(pr->name, sizeof pr->name, "%s", name);
    pr->process_cap = cap;
}

static struct grey_plan plan_with_device(uint64_t cap, bool admin)
{
    struct grey_plan p;
    memset(&p, 0, sizeof p);
    p.dev[0].present = true;
    p.dev[0].budget = 80 * GiB;
    p.dev[0].process_cap = cap;
    p.ndevices = 1;
    p.admin = admin;
    return p;
}

Test(caps, principals_match_by_name_or_number)
{
    struct grey_identity id = alice();
    struct grey_plan_principal pr = {.is_group = false, .name = "alice"};
    cr_assert(grey_principal_matches(&pr, &id));
    snprintf(pr.name, sizeof pr.name, "1001");
    cr_assert(grey_principal_matches(&pr, &id));
    snprintf(pr.name, sizeof pr.name, "bob");
    cr_assert_not(grey_principal_matches(&pr, &id));
    snprintf(pr.name, sizeof pr.name, "1002");
    cr_assert_not(grey_principal_matches(&pr, &id));
    pr.is_group = true;
    snprintf(pr.name, sizeof pr.name, "students");
    cr_assert(grey_principal_matches(&pr, &id));
    snprintf(pr.name, sizeof pr.name, "100");
    cr_assert(grey_principal_matches(&pr, &id));
    snprintf(pr.name, sizeof pr.name, "alice");
    cr_assert_not(grey_principal_matches(&pr, &id), "a user name is not a group");
    cr_assert_not(grey_principal_matches(&pr, NULL));
    struct grey_identity anon = alice();
    anon.user[0] = '\0';
    pr.is_group = false;
    snprintf(pr.name, sizeof pr.name, "alice");
    cr_assert_not(grey_principal_matches(&pr, &anon), "an unknown name matches nothing");
}

Test(caps, one_plan_gives_the_smallest_cap_that_applies)
{
    struct grey_identity id = alice();
    struct grey_plan p = plan_with_device(60 * GiB, false);
    uint64_t caps[GREY_MAX_DEVICES];
    grey_plan_caps(&p, &id, caps);
    cr_assert_eq(caps[0], 60 * GiB);
    cr_assert_eq(caps[1], UINT64_MAX, "a device the plan does not list has no cap");
    add_principal(&p, false, "alice", 8 * GiB);
    add_principal(&p, true, "students", 4 * GiB);
    add_principal(&p, true, "staff", 1 * GiB); /* not hers */
    add_principal(&p, false, "bob", 2 * GiB);  /* not hers */
    grey_plan_caps(&p, &id, caps);
    cr_assert_eq(caps[0], 4 * GiB, "her group's cap is the smallest that applies");
    cr_assert_eq(caps[5], 4 * GiB, "user and group caps apply on every device");
    grey_plan_caps(&p, NULL, caps);
    cr_assert_eq(caps[0], 60 * GiB, "no identity: only device caps");
}

Test(caps, a_user_may_lower_an_admin_cap_but_not_raise_it)
{
    struct grey_plan admin = plan_with_device(20 * GiB, true);
    const struct grey_plan *plans[] = {&admin};
    uint64_t caps[GREY_MAX_DEVICES], low = 10 * GiB, high = 40 * GiB;
    grey_devmask raised = 99;

    grey_caps_resolve(plans, 1, NULL, &low, caps, &raised);
    cr_assert_eq(caps[0], 10 * GiB, "GREY_CAP lowers the admin cap");
    cr_assert_eq(caps[3], 10 * GiB, "and caps devices the admin plan does not list");
    cr_assert_eq(raised, 0);

    grey_caps_resolve(plans, 1, NULL, &high, caps, &raised);
    cr_assert_eq(caps[0], 20 * GiB, "GREY_CAP cannot raise the admin cap");
    cr_assert_eq(caps[3], 40 * GiB);
    cr_assert_eq(raised, 1u, "device 0 is reported as held down");

    grey_caps_resolve(plans, 1, NULL, NULL, caps, &raised);
    cr_assert_eq(caps[0], 20 * GiB);
    cr_assert_eq(caps[1], UINT64_MAX);
}

Test(caps, grey_cap_replaces_a_users_own_plan)
{
    struct grey_plan mine = plan_with_device(512 * MiB, false);
    const struct grey_plan *plans[] = {&mine};
    uint64_t caps[GREY_MAX_DEVICES], cap = 1 * GiB;
    grey_devmask raised;
    grey_caps_resolve(plans, 1, NULL, &cap, caps, &raised);
    cr_assert_eq(caps[0], 1 * GiB, "--cap overrides a user's plan, as it always did");
    cr_assert_eq(raised, 0);
    grey_caps_resolve(plans, 1, NULL, NULL, caps, NULL);
    cr_assert_eq(caps[0], 512 * MiB);
}

Test(caps, admin_and_user_plans_together)
{
    struct grey_identity id = alice();
    struct grey_plan admin = plan_with_device(60 * GiB, true), mine = plan_with_device(70 * GiB, false);
    add_principal(&admin, true, "students", 30 * GiB);
    add_principal(&mine, false, "alice", 1 * GiB); /* her own plan may say anything for herself */
    const struct grey_plan *plans[] = {&admin, &mine};
    uint64_t caps[GREY_MAX_DEVICES], cap = 50 * GiB;
    grey_devmask raised;
    grey_caps_resolve(plans, 2, &id, NULL, caps, &raised);
    cr_assert_eq(caps[0], 1 * GiB, "her own lower cap applies");
    grey_caps_resolve(plans, 2, &id, &cap, caps, &raised);
    cr_assert_eq(caps[0], 30 * GiB, "the admin's group cap holds against GREY_CAP");
    cr_assert_eq(caps[7], 30 * GiB);
    cr_assert_eq(raised, ~(grey_devmask)0, "held down on every device by the group cap");
    grey_caps_resolve(NULL, 0, NULL, NULL, caps, &raised);
    cr_assert_eq(caps[0], UINT64_MAX, "nothing configured: no cap");
}

Test(caps, the_admin_plan_chooses_the_ledger)
{
    struct grey_plan admin = plan_with_device(1, true), mine = plan_with_device(1, false);
    snprintf(admin.ledger, sizeof admin.ledger, "/dev/shm/node.ledger");
    snprintf(admin.ledger_group, sizeof admin.ledger_group, "gpu");
    snprintf(mine.ledger, sizeof mine.ledger, "/tmp/mine.ledger");
    char buf[256];
    const char *group;
    const struct grey_plan *both[] = {&mine, &admin};
    cr_assert_eq(grey_ledger_choose_path(both, 2, "/tmp/env.ledger", buf, sizeof buf, &group),
                 GREY_LEDGER_FROM_ADMIN_PLAN);
    cr_assert_str_eq(buf, "/dev/shm/node.ledger", "GREY_LEDGER cannot leave the node's budgets");
    cr_assert_str_eq(group, "gpu");
    const struct grey_plan *user_only[] = {&mine};
    cr_assert_eq(grey_ledger_choose_path(user_only, 1, "/tmp/env.ledger", buf, sizeof buf, &group),
                 GREY_LEDGER_FROM_ENV);
    cr_assert_str_eq(buf, "/tmp/env.ledger");
    cr_assert_str_eq(group, "");
    cr_assert_eq(grey_ledger_choose_path(user_only, 1, "", buf, sizeof buf, &group), GREY_LEDGER_FROM_PLAN);
    cr_assert_str_eq(buf, "/tmp/mine.ledger");
    char want[64];
    snprintf(want, sizeof want, "/dev/shm/grey-%u.ledger", (unsigned)getuid());
    cr_assert_eq(grey_ledger_choose_path(NULL, 0, NULL, buf, sizeof buf, &group), GREY_LEDGER_DEFAULT);
    cr_assert_str_eq(buf, want);
}
