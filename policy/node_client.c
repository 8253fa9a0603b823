#include "node_client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "node_owners.h"
#include "node_wire.h"

int grey_node_limits_read(int fd, struct grey_node_limits *limits, char *err, size_t errlen)
{
    /* Only a file nobody can write any more is worth copying: anything else could change after
     * the copy, or could have been written by someone other than the service. */
    if (grey_node_sealed_check(fd, grey_node_limits_seals(), sizeof *limits, "limits", err, errlen) != 0)
        return -1;
    size_t got = 0;
    while (got < sizeof *limits) {
        ssize_t n = pread(fd, (char *)limits + got, sizeof *limits - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return grey_error(err, errlen, "limits: cannot read: %s", n < 0 ? strerror(errno) : "short file");
        got += (size_t)n;
    }
    return grey_node_limits_validate(limits, sizeof *limits, err, errlen);
}

int grey_node_ledger_open(const char *socket_path, int timeout_ms, struct grey_ledger *lg,
                          struct grey_node_limits *limits, const struct grey_node_owners **owners, char *err,
                          size_t errlen)
{
    int fds[GREY_NODE_FDS];
    if (grey_node_fetch(socket_path, timeout_ms, fds, err, errlen) != 0)
        return -1;
    char why[256];
    const struct grey_node_owners *table = NULL;
    int rc = grey_node_limits_read(fds[GREY_NODE_FD_LIMITS], limits, why, sizeof why);
    if (rc == 0 && owners)
        rc = grey_node_owners_map(fds[GREY_NODE_FD_OWNERS], &table, why, sizeof why);
    close(fds[GREY_NODE_FD_LIMITS]);
    close(fds[GREY_NODE_FD_OWNERS]); /* the mapping, if any, keeps the file */
    if (rc != 0) {
        close(fds[GREY_NODE_FD_LEDGER]);
        return grey_error(err, errlen, "grey-noded %s: %s", socket_path, why);
    }
    if (grey_ledger_open_fd(fds[GREY_NODE_FD_LEDGER], socket_path, lg, err, errlen) != 0) {
        close(fds[GREY_NODE_FD_LEDGER]);
        if (table)
            munmap((void *)table, sizeof *table);
        return -1;
    }
    if (owners)
        *owners = table;
    return 0;
}
