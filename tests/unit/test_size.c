/* grey_size_parse and grey_size_format: what users may write and what they read back. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "policy/settings.h"
#include "policy/size.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)
#define TiB (1024ULL * GiB)

static uint64_t parse_ok(const char *text)
{
    uint64_t v = 0xdeadbeef;
    char err[160] = "";
    int rc = grey_size_parse(text, &v, err, sizeof err);
    cr_assert_eq(rc, 0, "'%s' was refused: %s", text, err);
    return v;
}

/* A refusal must leave *out alone and say what was wrong: `needle` must occur in the message. */
static void parse_refused(const char *text, const char *needle)
{
    uint64_t v = 42;
    char err[160] = "";
    cr_assert_eq(grey_size_parse(text, &v, err, sizeof err), -1, "'%s' was accepted", text);
    cr_assert_eq(v, 42, "'%s': output written on failure", text);
    cr_assert(strstr(err, needle) != NULL, "'%s': message '%s' does not mention '%s'", text, err,
              needle);
}

Test(size_parse, plain_bytes)
{
    cr_assert_eq(parse_ok("0"), 0);
    cr_assert_eq(parse_ok("1"), 1);
    cr_assert_eq(parse_ok("1048576"), MiB);
    cr_assert_eq(parse_ok("18446744073709551615"), UINT64_MAX);
}

Test(size_parse, every_unit_and_case)
{
    static const struct { const char *text; uint64_t want; } cases[] = {
        {"7B", 7},          {"7b", 7},
        {"3K", 3 * KiB},    {"3k", 3 * KiB},    {"3KB", 3 * KiB},   {"3kb", 3 * KiB},
        {"3KiB", 3 * KiB},  {"3kib", 3 * KiB},  {"3KIB", 3 * KiB},
        {"5M", 5 * MiB},    {"5m", 5 * MiB},    {"5MB", 5 * MiB},   {"5Mb", 5 * MiB},
        {"5MiB", 5 * MiB},  {"5mib", 5 * MiB},
        {"2G", 2 * GiB},    {"2g", 2 * GiB},    {"2GB", 2 * GiB},   {"2gB", 2 * GiB},
        {"2GiB", 2 * GiB},  {"2gib", 2 * GiB},
        {"4T", 4 * TiB},    {"4t", 4 * TiB},    {"4TB", 4 * TiB},   {"4TiB", 4 * TiB},
        {"4tib", 4 * TiB},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(parse_ok(cases[i].text), cases[i].want, "%s", cases[i].text);
}

/* Kubernetes writes "20Gi"; a resource limit copied from a pod spec must mean the same here. */
Test(size_parse, kubernetes_suffixes)
{
    cr_assert_eq(parse_ok("20Gi"), 20 * GiB);
    cr_assert_eq(parse_ok("512Mi"), 512 * MiB);
    cr_assert_eq(parse_ok("64Ki"), 64 * KiB);
    cr_assert_eq(parse_ok("2Ti"), 2 * TiB);
    cr_assert_eq(parse_ok("1.5Gi"), 1610612736ULL);
    cr_assert_eq(parse_ok("3 mi"), 3 * MiB);
    parse_refused("1Bi", "unknown unit 'Bi'");
    parse_refused("1Pi", "unknown unit 'Pi'");
    parse_refused("1Gib2", "unknown unit 'Gib2'");
}

/* The documented choice: GB is binary like G and GiB (never numfmt's SI 10^9). */
Test(size_parse, gb_is_binary)
{
    cr_assert_eq(parse_ok("2GB"), parse_ok("2GiB"));
    cr_assert_eq(parse_ok("2GB"), 2147483648ULL);
    cr_assert_neq(parse_ok("2GB"), 2000000000ULL);
    cr_assert_eq(parse_ok("1TB"), TiB);
}

static const char *env_cap_20gi(const char *name, bool secure)
{
    (void)secure;
    return strcmp(name, "GREY_CAP") == 0 ? "20Gi" : NULL;
}

static const char *env_cap_bad(const char *name, bool secure)
{
    (void)secure;
    return strcmp(name, "GREY_CAP") == 0 ? "20Gx" : NULL;
}

/* The hook reads GREY_CAP through policy/settings.c with this same parser: what grey-run's --cap
 * accepts, the hook accepts, and refuses with the same words. */
Test(size_parse, hook_settings_use_the_same_parser)
{
    struct grey_settings s;
    grey_settings_read(&s, env_cap_20gi, 1000);
    cr_assert(s.have_cap, "GREY_CAP=20Gi was not taken: %s", s.cap_error);
    cr_assert_eq(s.cap, 20 * GiB);
    grey_settings_read(&s, env_cap_bad, 1000);
    cr_assert(!s.have_cap);
    cr_assert(strstr(s.cap_error, "unknown unit 'Gx' in '20Gx'") != NULL, "%s", s.cap_error);
}

Test(size_parse, fractions_are_exact)
{
    cr_assert_eq(parse_ok("1.5G"), 1610612736ULL);
    cr_assert_eq(parse_ok("0.5KiB"), 512);
    cr_assert_eq(parse_ok("0.25MiB"), 262144);
    cr_assert_eq(parse_ok("0.1K"), 102, "102.4 bytes rounds down");
    cr_assert_eq(parse_ok("2.75TiB"), 2 * TiB + 3 * TiB / 4);
    /* digits past the 18th are dropped: the result stays just below 2 GiB, not 2 GiB */
    cr_assert_eq(parse_ok("1.99999999999999999999999G"), 2 * GiB - 1);
}

Test(size_parse, spaces_between_number_and_unit)
{
    cr_assert_eq(parse_ok("512 MiB"), 512 * MiB);
    cr_assert_eq(parse_ok("1.5  G"), 1610612736ULL);
    cr_assert_eq(parse_ok("20 GiB"), 20 * GiB);
}

Test(size_parse, refusals_say_why)
{
    parse_refused("12XB", "unknown unit 'XB' in '12XB'");
    parse_refused("-1G", "'-1G' is not a size");
    parse_refused("+1G", "must start with a digit");
    parse_refused("", "empty size");
    parse_refused("G", "'G' is not a size");
    parse_refused("1.", "a digit must follow '.'");
    parse_refused("1.G", "a digit must follow '.'");
    parse_refused("0x10", "unknown unit 'x10' in '0x10'");
    parse_refused("1e9", "unknown unit 'e9'");
    parse_refused("1.5", "whole number");
    parse_refused(" 1G", "must start with a digit");
    parse_refused("1G ", "unknown unit 'G '");
    parse_refused("1 2", "unknown unit '2'");
    parse_refused("1GiBs", "unknown unit 'GiBs'");
    parse_refused("18446744073709551616", "too large");
    parse_refused("17179869184GiB", "too large");
    parse_refused("16777216TiB", "too large");
}

Test(size_parse, largest_values_fit)
{
    cr_assert_eq(parse_ok("17179869183GiB"), 17179869183ULL * GiB);
    cr_assert_eq(parse_ok("16777215TiB"), 16777215ULL * TiB);
}

Test(size_parse, error_buffer_is_optional)
{
    uint64_t v = 0;
    cr_assert_eq(grey_size_parse("12XB", &v, NULL, 0), -1);
    char tiny[8];
    cr_assert_eq(grey_size_parse("12XB", &v, tiny, sizeof tiny), -1);
    cr_assert_eq(strlen(tiny), sizeof tiny - 1, "message truncated to the buffer");
    cr_assert_eq(grey_size_parse(NULL, &v, tiny, sizeof tiny), -1);
}

static void format_is(uint64_t bytes, const char *want)
{
    char buf[32];
    cr_expect_str_eq(grey_size_format(bytes, buf, sizeof buf), want, "%llu bytes",
                     (unsigned long long)bytes);
}

Test(size_format, people_sizes)
{
    format_is(0, "0 B");
    format_is(1, "1 B");
    format_is(1023, "1023 B");
    format_is(1024, "1.0 KiB");
    format_is(1536, "1.5 KiB");
    format_is(512 * MiB, "512.0 MiB");
    format_is(20 * GiB, "20.0 GiB");
    format_is(77309411328ULL, "72.0 GiB");
    format_is(1610612736ULL, "1.5 GiB");
    format_is(3 * TiB, "3.0 TiB");
    format_is(UINT64_MAX, "16.0 EiB");
}

Test(size_format, returns_buffer_and_truncates)
{
    char buf[6];
    cr_assert_eq(grey_size_format(20 * GiB, buf, sizeof buf), buf);
    cr_assert_str_eq(buf, "20.0 ");
}

Test(size_format, parses_back)
{
    /* what grey prints (with one decimal) is something grey accepts */
    char buf[32];
    grey_size_format(72 * GiB, buf, sizeof buf);
    cr_assert_eq(parse_ok(buf), 72 * GiB);
}
