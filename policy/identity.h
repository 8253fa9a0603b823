/* The calling process's identity (user, groups) and group lookups, through the C library's
 * name service (so LDAP and sssd users match too). For the hook's constructor and the tools;
 * never for a hot path. */
#ifndef GREY_IDENTITY_H
#define GREY_IDENTITY_H

#include <sys/types.h>

#include "caps.h"

/* Fills id for this process: real uid and its name, the effective group, and every group the
 * plans name in a [group NAME] section that this process is a member of (looked up by name, so
 * a process in hundreds of groups still matches). Names that cannot be looked up stay "".
 * Returns 0. */
int grey_identity_self(struct grey_identity *id, const struct grey_plan *const *plans, unsigned nplans);

/* A group name (or a numeric gid) to its gid. Returns 0 or -1. */
int grey_group_lookup(const char *name, gid_t *gid);

#endif
