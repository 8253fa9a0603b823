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

int grey_live_request(int pid, int timeout_ms, char *path, size_t pathlen, char *err, size_t errlen)
{
    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH)) {
        snprintf(err, errlen, "no process %d is running", pid);
        return -1;
    }
    char base[512];
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (grey_report_base(cli_settings()->report_base, base, sizeof base, false, err, errlen) != 0 ||
        grey_report_live_socket(base, pid, addr.sun_path, sizeof addr.sun_path) != 0) {
        snprintf(err, errlen, "process %d has no grey agent to ask (no report directory); it must run under "
                 "grey-run --dedup or --report, or with GREY_DEDUP=1", pid);
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
        snprintf(path, pathlen, "%s", reply + 3);
        return 0;
    }
    snprintf(err, errlen, "process %d: %s", pid, strncmp(reply, "error ", 6) == 0 ? reply + 6 : "no answer");
    return -1;
}
