/* Which ledger a tool reads (see ledger_source.h). */
#include "ledger_source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_common.h"
#include "policy/ledger_path.h"

const char *ledger_source_socket(const char *path)
{
    size_t n = strlen(LEDGER_SERVICE_PREFIX);
    return strncmp(path, LEDGER_SERVICE_PREFIX, n) == 0 ? path + n : NULL;
}

bool ledger_source_present(const char *path)
{
    const char *socket = ledger_source_socket(path);
    struct stat st;
    if (socket)
        return lstat(socket, &st) == 0 && S_ISSOCK(st.st_mode);
    return access(path, F_OK) == 0 || errno != ENOENT; /* unreadable is not missing: loading says why */
}

void ledger_choice_init(struct ledger_choice *c, const char *given, const struct grey_plan *const *plans, unsigned n)
{
    memset(c, 0, sizeof *c);
    if (given)
        snprintf(c->given, sizeof c->given, "%s", given);
    /* As the hook: only an admin plan names the service (the node's ledger is never a user's
     * choice). */
    for (unsigned i = 0; i < n && !c->service[0]; i++)
        if (plans[i]->admin && plans[i]->node_service[0])
            snprintf(c->service, sizeof c->service, "%s%s", LEDGER_SERVICE_PREFIX, plans[i]->node_service);
    const char *group;
    grey_ledger_choose_path(plans, n, cli_settings()->ledger, c->file, sizeof c->file, &group);
}

const char *ledger_choice_now(const struct ledger_choice *c)
{
    if (c->given[0])
        return c->given;
    return c->service[0] && ledger_source_present(c->service) ? c->service : c->file;
}

int ledger_choice_load(const struct ledger_choice *c, bool reclaim, struct grey_view *v, const char **shown,
                       char *err, size_t errlen)
{
    const char *path = ledger_choice_now(c);
    *shown = path;
    int rc = grey_view_load(path, reclaim, v, err, errlen);
    if (rc == 0 || c->given[0] || path != c->service)
        return rc;
    /* A socket left by a service that died, or one that did not answer: the hook uses the file
     * then, and so does the tool. When the file cannot be read either, the service's reason is
     * the one worth saying (a user outside ledger_group is refused by both). */
    char file_err[PATH_MAX + 256];
    if (grey_view_load(c->file, reclaim, v, file_err, sizeof file_err) != 0)
        return -1;
    *shown = c->file;
    return 0;
}
