/* The node's fingerprint table (policy/fp_table.h) under grey-noded: its ledger exists on no
 * path, so the table the hooks publish their large buffers' fingerprints in lies beside the
 * service's socket (grey_fpt_path), made fresh by the service at start, as the ledger is. */
#ifndef GREY_NODED_FP_H
#define GREY_NODED_FP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Makes SOCKET.fp for a ledger of nslots slots, replacing one a previous run left: owned by
 * root, writable by group (0660) when one is given, else root's alone (0600: hooks refuse a
 * table every user may write, as they refuse such a ledger, so only root's jobs publish then). Its path in path_out. 0, or -1 with the reason
 * in err and nothing left behind. */
int noded_fp_create(const char *socket_path, uint32_t nslots, gid_t group, char *path_out, size_t len, char *err,
                    size_t errlen);

#endif
