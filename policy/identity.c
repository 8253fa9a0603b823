/* Identity through getpwuid_r / getgrgid_r (see identity.h). */
#include "identity.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

#define BUF_START 4096
#define BUF_MAX (1 << 20) /* groups with many members need large buffers; past this, give up */

static void copy_name(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n >= GREY_PRINCIPAL_NAME_MAX) {
        dst[0] = '\0'; /* no plan can name it anyway; match by number only */
        return;
    }
    memcpy(dst, src, n + 1);
}

static void user_name(uid_t uid, char *out)
{
    out[0] = '\0';
    for (size_t len = BUF_START; len <= BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return;
        struct passwd pw, *res = NULL;
        int rc = getpwuid_r(uid, &pw, buf, len, &res);
        if (rc == 0 && res)
            copy_name(out, res->pw_name);
        free(buf);
        if (rc != ERANGE)
            return;
    }
}

static void group_name(gid_t gid, char *out)
{
    out[0] = '\0';
    for (size_t len = BUF_START; len <= BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return;
        struct group gr, *res = NULL;
        int rc = getgrgid_r(gid, &gr, buf, len, &res);
        if (rc == 0 && res)
            copy_name(out, res->gr_name);
        free(buf);
        if (rc != ERANGE)
            return;
    }
}

/* Whether this process is in group gid: its effective group or one of its supplementary ones
 * (all of them, however many: a membership missed here would let a group's cap slip). */
static bool in_group(gid_t gid)
{
    if (getegid() == gid || getgid() == gid)
        return true;
    int n = getgroups(0, NULL);
    if (n <= 0)
        return false;
    gid_t *groups = malloc(sizeof *groups * (size_t)n);
    if (!groups)
        return false;
    n = getgroups(n, groups);
    bool found = false;
    for (int i = 0; i < n && !found; i++)
        found = groups[i] == gid;
    free(groups);
    return found;
}

int grey_identity_self(struct grey_identity *id, const struct grey_plan *const *plans, unsigned nplans)
{
    memset(id, 0, sizeof *id);
    id->uid = (uint32_t)getuid();
    user_name(getuid(), id->user);
    /* Groups: the primary one, then each group a plan names that this process is in. */
    id->gid[0] = (uint32_t)getegid();
    group_name(getegid(), id->group[0]);
    id->ngroups = 1;
    for (unsigned p = 0; p < nplans; p++) {
        for (unsigned i = 0; i < plans[p]->nprincipals && i < GREY_PLAN_PRINCIPALS; i++) {
            const struct grey_plan_principal *pr = &plans[p]->principal[i];
            gid_t gid;
            if (!pr->is_group || id->ngroups >= GREY_IDENTITY_GROUPS || grey_group_lookup(pr->name, &gid) != 0 ||
                !in_group(gid))
                continue;
            id->gid[id->ngroups] = (uint32_t)gid;
            copy_name(id->group[id->ngroups], pr->name);
            id->ngroups++;
        }
    }
    return 0;
}

int grey_group_lookup(const char *name, gid_t *gid)
{
    char *end;
    unsigned long v = strtoul(name, &end, 10);
    if (*name && !*end) {
        *gid = (gid_t)v;
        return 0;
    }
    for (size_t len = BUF_START; len <= BUF_MAX; len *= 2) {
        char *buf = malloc(len);
        if (!buf)
            return -1;
        struct group gr, *res = NULL;
        int rc = getgrnam_r(name, &gr, buf, len, &res);
        if (rc == 0 && res)
            *gid = res->gr_gid;
        free(buf);
        if (rc != ERANGE)
            return rc == 0 && res ? 0 : -1;
    }
    return -1;
}
