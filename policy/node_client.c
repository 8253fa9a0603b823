#include "node_client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "node_wire.h"

int grey_node_limits_read(int fd, struct grey_node_limits *limits, char *err, size_t errlen)
{
    /* Only a file nobody can write any more is worth copying: anything else could change after
     * the copy, or could have been written by someone other than the service. */
    int seals = fcntl(fd, F_GET_SEALS);
    unsigned want = grey_node_limits_seals();
    if (seals < 0 || ((unsigned)seals & want) != want)
        return grey_error(err, errlen, "limits: not sealed against writing (seals %#x)",
                          seals < 0 ? 0u : (unsigned)seals);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return grey_error(err, errlen, "limits: cannot stat: %s", strerror(errno));
    if ((size_t)st.st_size != sizeof *limits)
        return grey_error(err, errlen, "limits: %lld bytes, expected %zu", (long long)st.st_size, sizeof *limits);
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
                          struct grey_node_limits *limits, char *err, size_t errlen)
{
    int ledger_fd, limits_fd;
    if (grey_node_fetch(socket_path, timeout_ms, &ledger_fd, &limits_fd, err, errlen) != 0)
        return -1;
    char why[256];
    int rc = grey_node_limits_read(limits_fd, limits, why, sizeof why);
    close(limits_fd);
    if (rc != 0) {
        close(ledger_fd);
        return grey_error(err, errlen, "grey-noded %s: %s", socket_path, why);
    }
    if (grey_ledger_open_fd(ledger_fd, socket_path, lg, err, errlen) != 0) {
        close(ledger_fd);
        return -1;
    }
    return 0;
}
