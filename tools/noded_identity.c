#include "noded_identity.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void noded_identity_of(uid_t uid, gid_t gid, struct grey_identity *id)
{
    memset(id, 0, sizeof *id);
    id->uid = (uint32_t)uid;
    char buf[4096];
    struct passwd pw, *p = NULL;
    gid_t groups[GREY_IDENTITY_GROUPS];
    int n = 0;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &p) == 0 && p) {
        snprintf(id->user, sizeof id->user, "%s", p->pw_name);
        n = GREY_IDENTITY_GROUPS;
        if (getgrouplist(p->pw_name, p->pw_gid, groups, &n) < 0)
            n = GREY_IDENTITY_GROUPS; /* more groups than we keep: the first ones count */
    } else {
        groups[0] = gid;
        n = 1;
    }
    for (int i = 0; i < n && i < GREY_IDENTITY_GROUPS; i++) {
        id->gid[id->ngroups] = (uint32_t)groups[i];
        struct group gr, *g = NULL;
        if (getgrgid_r(groups[i], &gr, buf, sizeof buf, &g) == 0 && g)
            snprintf(id->group[id->ngroups], sizeof id->group[0], "%s", g->gr_name);
        id->ngroups++;
    }
}

bool noded_identity_in_group(const struct grey_identity *id, gid_t g)
{
    if (id->uid == 0)
        return true;
    for (unsigned i = 0; i < id->ngroups; i++)
        if (id->gid[i] == (uint32_t)g)
            return true;
    return false;
}

int noded_process_owner(pid_t pid, uid_t *uid, gid_t *gid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *uid = st.st_uid;
    *gid = st.st_gid;
    return 0;
}
