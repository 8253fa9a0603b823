/* Plan budgets into the ledger: who may set a device budget, and who must keep the one there. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "policy/budget.h"
#include "policy/procinfo.h"
#include "tests/unit/ledger_locks.h"

#define GiB (1024ULL * 1024 * 1024)

static char path[256];
static struct grey_ledger lg;

static void setup(void)
{
    snprintf(path, sizeof path, "/tmp/grey-test-budget-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path);
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    grey_ledger_close(&lg);
    unlink(path);
}

TestSuite(budget, .init = setup, .fini = teardown);

static struct grey_plan plan(uint64_t budget0, uint64_t budget2, bool admin)
{
    struct grey_plan p;
    memset(&p, 0, sizeof p);
    p.dev[0] = (struct grey_plan_device){.present = true, .budget = budget0, .process_cap = budget0};
    p.dev[2] = (struct grey_plan_device){.present = true, .budget = budget2, .process_cap = budget2};
    p.ndevices = 3;
    p.admin = admin;
    return p;
}

static uint64_t budget(int d) { return atomic_load(&lg.header->device_budget[d]); }

/* Another live process using the ledger: an ACTIVE slot whose lock another open file
 * description holds. Returns that description: closing it is the process's death. */
static int another_user(void)
{
    atomic_store(&lg.slots[5].state, GREY_SLOT_ACTIVE);
    return hold_slot(path, 5);
}

Test(budget, a_fresh_ledger_takes_the_first_plans_budgets)
{
    cr_assert_eq(budget(0), UINT64_MAX, "a new ledger has no budget");
    another_user();
    struct grey_plan p = plan(1 * GiB, 2 * GiB, false);
    cr_assert_eq(grey_budget_apply(&lg, &p), 0);
    cr_assert_eq(budget(0), 1 * GiB);
    cr_assert_eq(budget(2), 2 * GiB);
    cr_assert_eq(budget(1), UINT64_MAX, "devices the plan does not list keep no budget");
    cr_assert_eq(atomic_load(&lg.header->budget_admin), 0);
    cr_assert_eq(grey_budget_apply(&lg, &p), 0, "the same plan again is no conflict");
}

Test(budget, a_conflicting_user_plan_keeps_the_budget_while_others_share_it)
{
    int other = another_user();
    struct grey_plan first = plan(1 * GiB, 2 * GiB, false), second = plan(4 * GiB, 2 * GiB, false);
    grey_budget_apply(&lg, &first);
    cr_assert_eq(grey_budget_apply(&lg, &second), 1u, "device 0 kept, device 2 agreed");
    cr_assert_eq(budget(0), 1 * GiB);
    close(other);
    cr_assert_eq(grey_budget_apply(&lg, &second), 0, "with nobody else live, the new plan takes over");
    cr_assert_eq(budget(0), 4 * GiB);
}

Test(budget, an_admin_plan_always_sets_and_then_holds)
{
    int other = another_user();
    struct grey_plan user = plan(1 * GiB, 1 * GiB, false), admin = plan(8 * GiB, 16 * GiB, true);
    grey_budget_apply(&lg, &user);
    cr_assert_eq(grey_budget_apply(&lg, &admin), 0);
    cr_assert_eq(budget(0), 8 * GiB);
    cr_assert_eq(budget(2), 16 * GiB);
    cr_assert_eq(atomic_load(&lg.header->budget_admin), GREY_DEVBIT(0) | GREY_DEVBIT(2));
    /* Even on an idle ledger a user's plan does not replace an admin's budget. */
    close(other);
    cr_assert_eq(grey_budget_apply(&lg, &user), 5u);
    cr_assert_eq(budget(0), 8 * GiB);
    struct grey_plan admin2 = plan(2 * GiB, 16 * GiB, true);
    cr_assert_eq(grey_budget_apply(&lg, &admin2), 0, "a later admin plan wins");
    cr_assert_eq(budget(0), 2 * GiB);
}
