/* Thermal back-off rules (policy/thermal.h) and the plan's thermal key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "policy/plan.h"
#include "policy/thermal.h"

Test(thermal, levels_with_hysteresis)
{
    /* cooldown 80, throttle 87, hysteresis 2 C */
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_COOL, 79, 80, 87), GREY_THERMAL_COOL);
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_COOL, 80, 80, 87), GREY_THERMAL_WARM, "at cooldown_temp: back off");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_WARM, 79, 80, 87), GREY_THERMAL_WARM, "within the hysteresis: held");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_WARM, 78, 80, 87), GREY_THERMAL_COOL, "2 C under: released");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_WARM, 87, 80, 87), GREY_THERMAL_HOT);
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_COOL, 95, 80, 87), GREY_THERMAL_HOT, "straight to hot");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_HOT, 86, 80, 87), GREY_THERMAL_HOT);
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_HOT, 85, 80, 87), GREY_THERMAL_WARM, "hot falls back to warm");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_HOT, 60, 80, 87), GREY_THERMAL_COOL);
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_COOL, 200, 0, 0), GREY_THERMAL_COOL, "no thresholds: never");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_COOL, 90, 0, 87), GREY_THERMAL_HOT, "throttle_temp alone");
    cr_assert_eq(grey_thermal_next(GREY_THERMAL_HOT, 84, 0, 87), GREY_THERMAL_COOL);
}

Test(thermal, shares_by_weight)
{
    cr_assert_eq(grey_thermal_device_share(GREY_THERMAL_COOL), 0);
    cr_assert_eq(grey_thermal_device_share(GREY_THERMAL_WARM), 5000);
    cr_assert_eq(grey_thermal_device_share(GREY_THERMAL_HOT), 2500);
    cr_assert_eq(grey_thermal_process_share(5000, 3, 4), 3750, "weight 3 of 4 at 50%");
    cr_assert_eq(grey_thermal_process_share(5000, 1, 4), 1250);
    cr_assert_eq(grey_thermal_process_share(5000, 0, 0), 5000, "alone, weight unset");
    cr_assert_eq(grey_thermal_process_share(2500, 1, 100000), 1, "never 0, which would mean no ceiling");
    cr_assert_eq(grey_thermal_process_share(0, 3, 4), 0, "cool: no ceiling");
}

Test(thermal, ledger_word_round_trip)
{
    struct grey_thermal_word w = {.level = GREY_THERMAL_HOT, .dry_run = true, .temp_c = 91, .device_share = 2500,
                                  .at_s = 123456};
    struct grey_thermal_word r = grey_thermal_unpack(grey_thermal_pack(&w));
    cr_assert(r.sampled);
    cr_assert_eq(r.level, GREY_THERMAL_HOT);
    cr_assert(r.dry_run);
    cr_assert_eq(r.temp_c, 91);
    cr_assert_eq(r.device_share, 2500);
    cr_assert_eq(r.at_s, 123456);
    cr_assert(!grey_thermal_unpack(0).sampled, "a zero word was never sampled");
}

static int parse(const char *text, struct grey_plan *p, char *err, size_t n)
{
    return grey_plan_parse(text, strlen(text), "t.conf", p, err, n);
}

Test(thermal, plan_key)
{
    static struct grey_plan p;
    char err[256];
    cr_assert_eq(parse("grey-plan-version = 1\n", &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.thermal, GREY_THERMAL_UNSET);
    const char *names[] = {"on", "off", "dry-run"};
    enum grey_plan_thermal want[] = {GREY_THERMAL_ON, GREY_THERMAL_OFF, GREY_THERMAL_DRY_RUN};
    for (int i = 0; i < 3; i++) {
        char text[128];
        snprintf(text, sizeof text, "grey-plan-version = 1\nthermal = %s\nthermal.why = 1 \"set by hand\"\n", names[i]);
        cr_assert_eq(parse(text, &p, err, sizeof err), 0, "%s", err);
        cr_assert_eq(p.thermal, want[i], "thermal = %s", names[i]);
    }
    cr_assert_eq(parse("grey-plan-version = 1\nthermal = maybe\n", &p, err, sizeof err), -1);
    cr_assert(strstr(err, "t.conf:2: thermal: unknown setting 'maybe'") != NULL, "%s", err);
    cr_assert_eq(parse("grey-plan-version = 1\n[device 0]\nbudget = 1GiB\nprocess_cap = 1GiB\nthermal = off\n", &p, err,
                       sizeof err),
                 -1, "a top-level key only");
}

Test(thermal, mode_and_limits_from_plans)
{
    static struct grey_plan admin, user;
    memset(&admin, 0, sizeof admin);
    memset(&user, 0, sizeof user);
    admin.admin = true;
    const struct grey_plan *both[2] = {&admin, &user};
    cr_assert_eq(grey_thermal_mode(both, 2), GREY_THERMAL_ON, "on when nobody says");
    user.thermal = GREY_THERMAL_OFF;
    cr_assert_eq(grey_thermal_mode(both, 2), GREY_THERMAL_OFF, "the user's when the admin says nothing");
    admin.thermal = GREY_THERMAL_ON;
    cr_assert_eq(grey_thermal_mode(both, 2), GREY_THERMAL_ON, "the admin's wins");
    admin.dev[1].present = user.dev[1].present = true;
    admin.dev[1].cooldown_temp = 84, admin.dev[1].throttle_temp = 87;
    user.dev[1].cooldown_temp = 88;
    unsigned c, t;
    grey_thermal_limits(both, 2, 1, &c, &t);
    cr_assert_eq(c, 84, "a user cannot back off later than the admin says");
    cr_assert_eq(t, 87);
    user.dev[1].cooldown_temp = 70;
    grey_thermal_limits(both, 2, 1, &c, &t);
    cr_assert_eq(c, 70, "but earlier");
    grey_thermal_limits(both, 2, 0, &c, &t);
    cr_assert(c == 0 && t == 0, "a device no plan names has none");
}
