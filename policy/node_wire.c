#include "node_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until sock is readable or the deadline passes: 1, 0 (time is up) or -1. */
static int wait_readable(int sock, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            return 1;
        if (n == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* The first `keep` descriptors an SCM_RIGHTS message carried go to kept[]; any more are closed,
 * so a peer cannot make this process hold descriptors it did not ask for. */
static void close_rights(struct msghdr *msg, int keep, int *kept)
{
    int seen = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        int *fds = (int *)CMSG_DATA(c);
        for (size_t i = 0; i < n; i++, seen++) {
            int fd;
            memcpy(&fd, &fds[i], sizeof fd);
            if (seen < keep)
                kept[seen] = fd;
            else
                close(fd);
        }
    }
}

static int connect_service(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return grey_error(err, errlen, "grey-noded %s: path too long for a socket", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    /* Non-blocking: a service whose backlog is full makes connect fail at once (EAGAIN) rather
     * than hold this process's constructor. */
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0)
        return grey_error(err, errlen, "grey-noded %s: socket: %s", path, strerror(errno));
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) {
        int e = errno;
        close(sock);
        return grey_error(err, errlen, "grey-noded %s: %s", path,
                          e == ENOENT || e == ECONNREFUSED ? "not running" : strerror(e));
    }
    /* Only root's service is believed: anyone else could have bound a socket somewhere. */
    struct ucred cred = {.uid = (uid_t)-1};
    socklen_t len = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
        close(sock);
        return grey_error(err, errlen, "grey-noded %s: served by uid %u, not root; not trusted", path,
                          (unsigned)cred.uid);
    }
    return sock;
}

int grey_node_fetch(const char *path, int timeout_ms, int fds[GREY_NODE_FDS], char *err, size_t errlen)
{
    for (int i = 0; i < GREY_NODE_FDS; i++)
        fds[i] = -1;
    int64_t deadline = now_ms() + timeout_ms;
    int sock = connect_service(path, err, errlen);
    if (sock < 0)
        return -1;
    struct grey_node_request req = {.protocol = GREY_NODE_PROTOCOL};
    memcpy(req.magic, GREY_NODE_MAGIC, sizeof req.magic);
    if (send(sock, &req, sizeof req, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof req) {
        int e = errno;
        close(sock);
        return grey_error(err, errlen, "grey-noded %s: cannot ask: %s", path, strerror(e));
    }
    int ready = wait_readable(sock, deadline);
    if (ready <= 0) {
        close(sock);
        return grey_error(err, errlen, "grey-noded %s: no answer within %d ms", path, timeout_ms);
    }
    struct grey_node_answer ans;
    union {
        char buf[CMSG_SPACE((GREY_NODE_FDS + 2) * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = &ans, .iov_len = sizeof ans};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    int e = errno;
    close(sock);
    if (n > 0)
        close_rights(&msg, GREY_NODE_FDS, fds);
    bool whole = n == (ssize_t)sizeof ans && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) &&
                 memcmp(ans.magic, GREY_NODE_MAGIC, sizeof ans.magic) == 0 && ans.protocol == GREY_NODE_PROTOCOL;
    bool all = true;
    for (int i = 0; i < GREY_NODE_FDS; i++)
        all &= fds[i] >= 0;
    if (!whole || ans.status != GREY_NODE_OK || !all) {
        for (int i = 0; i < GREY_NODE_FDS; i++) {
            if (fds[i] >= 0)
                close(fds[i]);
            fds[i] = -1;
        }
        if (n < 0)
            return grey_error(err, errlen, "grey-noded %s: %s", path, strerror(e));
        if (!whole)
            return grey_error(err, errlen, "grey-noded %s: malformed answer", path);
        if (ans.status != GREY_NODE_OK) {
            ans.reason[sizeof ans.reason - 1] = '\0';
            return grey_error(err, errlen, "grey-noded %s: refused: %s", path, ans.reason);
        }
        return grey_error(err, errlen, "grey-noded %s: the answer carried no ledger", path);
    }
    return 0;
}

int grey_node_answer_send(int sock, enum grey_node_status status, const char *reason, const int *fds, int nfds)
{
    struct grey_node_answer ans;
    memset(&ans, 0, sizeof ans);
    memcpy(ans.magic, GREY_NODE_MAGIC, sizeof ans.magic);
    ans.protocol = GREY_NODE_PROTOCOL;
    ans.status = (uint32_t)status;
    snprintf(ans.reason, sizeof ans.reason, "%s", reason ? reason : "");
    union {
        char buf[CMSG_SPACE(GREY_NODE_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct iovec iov = {.iov_base = &ans, .iov_len = sizeof ans};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        if (nfds > GREY_NODE_FDS) {
            errno = EINVAL;
            return -1;
        }
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
        memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
    }
    /* MSG_DONTWAIT: a client that never reads must not stall the service (the answer is small
     * and the socket's buffer empty, so an honest client always gets it whole). */
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == (ssize_t)sizeof ans ? 0 : -1;
}

int grey_node_request_read(int sock, int timeout_ms)
{
    if (wait_readable(sock, now_ms() + timeout_ms) <= 0)
        return -1;
    struct grey_node_request req;
    ssize_t n = recv(sock, &req, sizeof req, MSG_DONTWAIT);
    return n == (ssize_t)sizeof req && memcmp(req.magic, GREY_NODE_MAGIC, sizeof req.magic) == 0 &&
                   req.protocol == GREY_NODE_PROTOCOL
               ? 0
               : -1;
}
