/* Every error of a plan file (see plan_check.h). */
#include "plan_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/identity.h"

/* The whole file, for re-parsing; NULL when it cannot be read as a plan (the loader's message
 * then says why). */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(GREY_PLAN_MAX_BYTES + 2);
    size_t n = buf ? fread(buf, 1, GREY_PLAN_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > GREY_PLAN_MAX_BYTES) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0'; /* so scanning a line can stop at the end */
    *len = n;
    return buf;
}

/* The LINE of "PATH:LINE: reason", 0 when the message has none. */
static unsigned error_line(const char *path, const char *err)
{
    size_t n = strlen(path);
    if (strncmp(err, path, n) != 0 || err[n] != ':')
        return 0;
    char *end;
    unsigned long line = strtoul(err + n + 1, &end, 10);
    return *end == ':' ? (unsigned)line : 0;
}

/* Start and length of line `line` (1-based) in buf; -1 when there is no such line. */
static int find_line(char *buf, size_t len, unsigned line, char **start, size_t *n)
{
    char *p = buf, *end = buf + len;
    for (unsigned l = 1; l < line; l++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return -1;
        p = nl + 1;
    }
    char *nl = memchr(p, '\n', (size_t)(end - p));
    *start = p;
    *n = nl ? (size_t)(nl - p) : (size_t)(end - p);
    return 0;
}

int plan_check_file(const char *path, struct grey_plan *plan, struct grey_plan_notes *notes,
                    char errs[][PLAN_CHECK_ERR_LEN], int max)
{
    static struct grey_plan scratch;
    if (!plan)
        plan = &scratch;
    if (grey_plan_load_notes(path, plan, notes, errs[0], PLAN_CHECK_ERR_LEN) == 0) {
        /* Valid text, but a group this node does not know makes every hooked process deny every
         * allocation (core/process.c): found here, not by the first job. */
        gid_t gid;
        if (plan->ledger_group[0] && grey_group_lookup(plan->ledger_group, &gid) != 0) {
            snprintf(errs[0], PLAN_CHECK_ERR_LEN, "%s: ledger_group '%s' is not a group on this node (hooked "
                     "processes would deny every GPU allocation)", path, plan->ledger_group);
            return 1;
        }
        return 0;
    }
    size_t len = 0;
    char *buf = slurp(path, &len);
    if (!buf)
        return 1;
    int count = 1;
    for (;;) {
        unsigned line = error_line(path, errs[count - 1]);
        char *start;
        size_t n;
        if (count >= max || line == 0 || find_line(buf, len, line, &start, &n) != 0)
            break;
        size_t lead = strspn(start, " \t");
        if (lead >= n || start[lead] == '[' || start[lead] == '#')
            break; /* a section's own problem: the lines after it would be misread */
        memset(start, ' ', n);
        if (grey_plan_parse(buf, len, path, &scratch, errs[count], PLAN_CHECK_ERR_LEN) == 0)
            break;
        if (strcmp(errs[count], errs[count - 1]) == 0)
            break;
        count++;
    }
    free(buf);
    return count;
}
