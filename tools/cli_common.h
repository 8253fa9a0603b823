/* Small helpers shared by the grey-* commands, so that they all report problems the same way:
 * "PROG: what went wrong" on stderr, usage problems followed by "try 'PROG --help'". */
#ifndef GREY_CLI_COMMON_H
#define GREY_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "policy/settings.h"

/* Exit statuses every grey tool uses. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1  /* runtime failure: no driver, unreadable or malformed file */
#define CLI_EXIT_USAGE 2 /* bad command line */

/* Prints "PROG: <message>" and "try 'PROG --help'" to stderr. Returns CLI_EXIT_USAGE so callers
 * can write `return cli_usage_error(...)`. */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "PROG: <message>" to stderr. Returns CLI_EXIT_FAIL. */
int cli_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "PROG: warning: <message>" to stderr. */
void cli_warn(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --version: "PROG (grey) VERSION" and the licence line on stdout (tools/cli_version.c). */
void cli_print_version(const char *prog);
const char *cli_version_string(void);

/* The rule of cli_parse_size without the printing (the Slurm plugin reports through Slurm): 0, or
 * -1 with the reason in why ("unknown unit 'XB' in '12XB' (...)"). */
int cli_check_size(const char *text, uint64_t *out, char *why, size_t whylen);

/* Parses the SIZE argument of option opt ("--cap") with grey_size_parse. Zero is refused too: no
 * grey option means anything by a size of zero bytes. On error prints a usage error such as
 * "grey-run: --cap: unknown unit 'XB' in '12XB' (...)" + the --help hint and returns -1; on
 * success stores the value and returns 0. */
int cli_parse_size(const char *prog, const char *opt, const char *text, uint64_t *out);

/* The hook's GREY_* settings as the hook would read them in this environment now
 * (policy/settings.h), so a tool and the hook it starts agree on plans, ledger and directories.
 * The returned storage is reused by the next call. */
const struct grey_settings *cli_settings(void);

#endif
