/* Durations as plans and GREY_MAX_LEAD write them (policy/duration.h). */
#include <criterion/criterion.h>
#include <string.h>

#include "policy/duration.h"

static uint64_t ok(const char *text)
{
    uint64_t ns = 12345;
    char err[128];
    cr_assert_eq(grey_duration_parse(text, &ns, err, sizeof err), 0, "'%s' refused: %s", text, err);
    return ns;
}

static void refused(const char *text, const char *want)
{
    uint64_t ns = 77;
    char err[128];
    cr_assert_eq(grey_duration_parse(text, &ns, err, sizeof err), -1, "'%s' accepted", text);
    cr_assert(strstr(err, want), "'%s': '%s' lacks '%s'", text, err, want);
    cr_assert_eq(ns, 77, "a refusal leaves the value alone");
}

Test(duration, units_and_fractions)
{
    cr_assert_eq(ok("50ms"), 50000000ull);
    cr_assert_eq(ok("2s"), 2000000000ull);
    cr_assert_eq(ok("500us"), 500000ull);
    cr_assert_eq(ok("1.5 ms"), 1500000ull);
    cr_assert_eq(ok("0"), 0);
    cr_assert_eq(ok("0ms"), 0);
    cr_assert_eq(ok("3600s"), GREY_DURATION_MAX_NS);
}

Test(duration, refusals_name_the_problem)
{
    refused("", "not a duration");
    refused("-5ms", "not a duration");
    refused("50", "no unit");
    refused("2min", "unknown unit 'min'");
    refused("5ms x", "unknown unit 'ms x'");
    refused("3601s", "longer than an hour");
    refused("99999999999999999999999s", "longer than an hour");
}

Test(duration, format)
{
    char b[32];
    cr_assert_str_eq(grey_duration_format(50000000, b, sizeof b), "50.0 ms");
    cr_assert_str_eq(grey_duration_format(2500000000ull, b, sizeof b), "2.5 s");
    cr_assert_str_eq(grey_duration_format(0, b, sizeof b), "0");
    cr_assert_str_eq(grey_duration_format(999, b, sizeof b), "999 ns");
}
