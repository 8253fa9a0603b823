/* Shared reporting helpers for the grey-* commands (see cli_common.h). */
#include "cli_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "policy/size.h"

static void vreport(const char *prog, const char *tag, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: %s", prog, tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(prog, "", fmt, ap);
    va_end(ap);
    fprintf(stderr, "try '%s --help'\n", prog);
    return CLI_EXIT_USAGE;
}

int cli_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(prog, "", fmt, ap);
    va_end(ap);
    return CLI_EXIT_FAIL;
}

void cli_warn(const char *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(prog, "warning: ", fmt, ap);
    va_end(ap);
}

int cli_check_size(const char *text, uint64_t *out, char *why, size_t whylen)
{
    uint64_t v;
    if (grey_size_parse(text, &v, why, whylen) != 0)
        return -1;
    if (v == 0) {
        snprintf(why, whylen, "size must be greater than zero (got '%s')", text);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_size(const char *prog, const char *opt, const char *text, uint64_t *out)
{
    char why[200];
    if (cli_check_size(text, out, why, sizeof why) != 0) {
        cli_usage_error(prog, "%s: %s", opt, why);
        return -1;
    }
    return 0;
}

const struct grey_settings *cli_settings(void)
{
    static struct grey_settings settings;
    grey_settings_read(&settings, grey_env_process, (unsigned)geteuid());
    return &settings;
}
