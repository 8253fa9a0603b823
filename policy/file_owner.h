/* Who really owns a file, seen from inside a user namespace.
 *
 * In the initial user namespace a file owned by uid 0 is root's. Inside one made by a user
 * (`unshare -Ur`), uid 0 is that user mapped in (their own files show as "root"), and every uid
 * the namespace does not map, real root's included, shows as the overflow uid
 * (/proc/sys/kernel/overflowuid, normally 65534). So "owned by root" is decided through
 * /proc/self/uid_map: an owner that maps to outer uid 0 is root; an unmapped owner (shown as the
 * overflow uid) is treated as root too, because nobody inside the namespace can have made it:
 * its owner is outside, and the files grey asks this about (the admin plan at its fixed path,
 * the node ledger) are only creatable there by root. docs/DESIGN.md says what this trusts. */
#ifndef GREY_FILE_OWNER_H
#define GREY_FILE_OWNER_H

#include <stdbool.h>
#include <sys/types.h>

/* True when a file whose st_uid is uid belongs to the node's root. */
bool grey_owner_is_root(uid_t uid);

/* True when gid is a group this user namespace does not map (shown as the overflow gid): a group
 * given to the file outside, by root. Always false in the initial namespace. */
bool grey_group_unmapped(gid_t gid);

/* The uid that uid is outside this user namespace (itself in the initial one, or when it is not
 * mapped or the map cannot be read): what names a user's own files across namespaces. */
uid_t grey_outer_uid(uid_t uid);

/* The same decision from explicit inputs, for tests: map is /proc/self/uid_map's text (NULL:
 * unreadable, so uid 0 is root as in the initial namespace), overflow the overflow uid. */
bool grey_owner_is_root_in(uid_t uid, const char *map, uid_t overflow);

#endif
