/* Who another process is, for grey-noded: a uid's name and groups (through the C library's name
 * service), to apply the admin plan's [user]/[group] caps to processes the watchdog sees and to
 * decide which clients get the node ledger. */
#ifndef GREY_NODED_IDENTITY_H
#define GREY_NODED_IDENTITY_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy/caps.h"

/* Fills id for uid (its primary group from the password database, or gid when uid has no entry). */
void noded_identity_of(uid_t uid, gid_t gid, struct grey_identity *id);

/* True when the identity is root or in group g. */
bool noded_identity_in_group(const struct grey_identity *id, gid_t g);

/* The owner of /proc/PID: 0 with *uid set, or -1 (the process is gone). */
int noded_process_owner(pid_t pid, uid_t *uid, gid_t *gid);

#endif
