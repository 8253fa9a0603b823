/* The fingerprint table beside grey-noded's socket (noded_fp.h). */
#include "noded_fp.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/fp_table.h"
#include "policy/node_client.h"
#include "policy/safe_file.h"

int noded_fp_create(const char *socket_path, uint32_t nslots, gid_t group, char *path_out, size_t len, char *err,
                    size_t errlen)
{
    char name[PATH_MAX + 16], tmp[PATH_MAX + 64];
    int n = snprintf(name, sizeof name, "%s%s", GREY_NODE_LEDGER_PREFIX, socket_path);
    if (n < 0 || (size_t)n >= sizeof name || !grey_fpt_path(name, path_out, len)) {
        snprintf(err, errlen, "%s: the fingerprint table's path is too long", socket_path);
        return -1;
    }
    int fd = grey_safe_temp_beside(path_out, 0600, tmp, sizeof tmp, err, errlen);
    if (fd < 0)
        return -1;
    struct grey_fpt_header h = {.magic = GREY_FPT_MAGIC, .version = GREY_FPT_VERSION, .sections = nslots};
    /* Every page allocated now: a hook maps it shared, and a hole on a full tmpfs would be a
     * SIGBUS in someone's program. */
    int rc = posix_fallocate(fd, 0, (off_t)grey_fpt_size(nslots));
    if (rc == 0 && pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h)
        rc = errno ? errno : EIO;
    if (rc == 0 && group != (gid_t)-1 && fchown(fd, 0, group) != 0)
        rc = errno;
    if (rc == 0 && fchmod(fd, group != (gid_t)-1 ? 0660 : 0600) != 0)
        rc = errno;
    if (rc == 0 && rename(tmp, path_out) != 0)
        rc = errno;
    close(fd);
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "cannot make %s: %s", path_out, strerror(rc));
        return -1;
    }
    return 0;
}
