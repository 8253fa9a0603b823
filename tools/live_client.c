#include "live_client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "policy/report_dir.h"
#include "cli_common.h"

/* A connection to process pid's agent, checked: only through directories that are ours alone,
 * only to a socket the kernel says process pid of this user serves. The descriptor, or -1. The
 * agent's live directory goes to live (livelen bytes). */
static int connect_agent(int pid, char *live_out, size_t livelen, char *err, size_t errlen)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
        snprintf(err, errlen, "no process %d is running", pid);
        return -1;
    }
    char base[512], live[600], why[800];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (grey_report_base(cli_settings()->report_base, base, sizeof base, false, err, errlen) != 0 ||
        grey_report_live_dir(base, live, sizeof live) != 0 ||
        grey_report_live_socket(base, pid, addr.sun_path, sizeof addr.sun_path) != 0) {
        snprintf(err, errlen, "process %d has no grey agent to ask (no report directory); it must run under "
                 "grey-run --dedup or --report, or with GREY_DEDUP=1", pid);
        return -1;
    }
    /* Another user may have made /tmp/grey-UID (used when XDG_RUNTIME_DIR is unset) and put a
     * socket of theirs in it: talk only through directories that are ours alone. */
    if (grey_report_check_private(base, why, sizeof why) != 0 || grey_report_check_private(live, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s; not asking process %d through it", why, pid);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        snprintf(err, errlen, "process %d has no grey agent at %s (%s); it must run under grey-run --dedup or "
                 "--report, or with GREY_DEDUP=1, and have allocated GPU memory", pid, addr.sun_path, strerror(errno));
        close(fd);
        return -1;
    }
    /* The answering process must be the one asked about, and ours (the kernel says who it is). */
    struct ucred cred;
    socklen_t credlen = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) != 0 || cred.uid != geteuid() ||
        cred.pid != (pid_t)pid) {
        snprintf(err, errlen, "the socket %s is served by pid %d of uid %u, not by process %d of this user (uid %u); "
                 "refusing it", addr.sun_path, (int)cred.pid, (unsigned)cred.uid, pid, (unsigned)geteuid());
        close(fd);
        return -1;
    }
    snprintf(live_out, livelen, "%s", live);
    return fd;
}

int grey_live_request(int pid, int timeout_ms, char *path, size_t pathlen, char *err, size_t errlen)
{
    char live[600];
    int fd = connect_agent(pid, live, sizeof live, err, errlen);
    if (fd < 0)
        return -1;
    static const char req[] = "snapshot\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        snprintf(err, errlen, "process %d: cannot send the request: %s", pid, strerror(errno));
        close(fd);
        return -1;
    }
    char reply[1400];
    size_t got = 0;
    while (got < sizeof reply - 1 && !memchr(reply, '\n', got)) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r == 0) {
            snprintf(err, errlen, "process %d did not answer within %d ms", pid, timeout_ms);
            close(fd);
            return -1;
        }
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t n = r > 0 ? read(fd, reply + got, sizeof reply - 1 - got) : -1;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    reply[got] = '\0';
    reply[strcspn(reply, "\n")] = '\0';
    if (strncmp(reply, "ok ", 3) == 0) {
        /* The caller reads the record and then removes it, so only the name the agent gives its
         * records is accepted (LIVE/PID-SEQ.raw, in the directory checked above), never any
         * path the peer chooses. */
        const char *name = reply + 3;
        size_t n = strlen(live);
        int used = 0;
        unsigned got_pid = 0, seq = 0;
        if (strncmp(name, live, n) != 0 || name[n] != '/' ||
            sscanf(name + n + 1, "%u-%u.raw%n", &got_pid, &seq, &used) != 2 || name[n + 1 + used] != '\0' ||
            got_pid != (unsigned)pid || strchr(name + n + 1, '/')) {
            snprintf(err, errlen, "process %d answered with a record outside %s; refusing it", pid, live);
            return -1;
        }
        snprintf(path, pathlen, "%s", name);
        return 0;
    }
    snprintf(err, errlen, "process %d: %s", pid, strncmp(reply, "error ", 6) == 0 ? reply + 6 : "no answer");
    return -1;
}

/* Reads exactly n bytes from fd within timeout_ms each. */
static bool read_all(int fd, void *dst, size_t n, int timeout_ms)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        ssize_t k = r > 0 ? read(fd, (char *)dst + got, n - got) : -1;
        if (k <= 0)
            return false;
        got += (size_t)k;
    }
    return true;
}

int grey_live_read(int pid, uint64_t addr, uint64_t offset, void *dst, size_t n, int timeout_ms, char *err,
                   size_t errlen)
{
    char live[600], req[96], line[512];
    if (n > GREY_LIVE_READ_MAX) {
        snprintf(err, errlen, "a read of %zu bytes is larger than an agent answers", n);
        return -1;
    }
    int fd = connect_agent(pid, live, sizeof live, err, errlen);
    if (fd < 0)
        return -1;
    int len = snprintf(req, sizeof req, "read %llx %llu %zu\n", (unsigned long long)addr, (unsigned long long)offset, n);
    if (write(fd, req, (size_t)len) != len) {
        snprintf(err, errlen, "process %d: cannot send the request: %s", pid, strerror(errno));
        close(fd);
        return -1;
    }
    /* "ok N\n" and exactly N bytes, or "error WHY\n". */
    size_t got = 0;
    while (got < sizeof line - 1 && (got == 0 || line[got - 1] != '\n') && read_all(fd, line + got, 1, timeout_ms))
        got++;
    line[got] = '\0';
    line[strcspn(line, "\n")] = '\0';
    unsigned long long answered = 0;
    int used = 0;
    if (sscanf(line, "ok %llu%n", &answered, &used) == 1 && line[used] == '\0' && answered == n &&
        read_all(fd, dst, n, timeout_ms)) {
        close(fd);
        return 0;
    }
    close(fd);
    snprintf(err, errlen, "process %d: %s", pid, strncmp(line, "error ", 6) == 0 ? line + 6 : "no answer");
    return -1;
}
