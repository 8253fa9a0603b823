/* grey-noded's socket (see noded_socket.h). */
#include "noded_socket.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "noded_identity.h"
#include "noded_log.h"
#include "policy/errmsg.h"
#include "policy/node_wire.h"

/* A client gets this long to send its request; the service answers nobody else meanwhile, so
 * it is short (an honest client has sent it before the service even accepts). */
#define REQUEST_TIMEOUT_MS 50

static bool someone_answers(const struct sockaddr_un *addr)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return false;
    bool yes = connect(s, (const struct sockaddr *)addr, sizeof *addr) == 0;
    close(s);
    return yes;
}

int noded_socket_listen(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path)
        return grey_error(err, errlen, "%s: too long for a socket path", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode) || st.st_uid != 0)
            return grey_error(err, errlen, "%s: exists and is not root's socket; refusing to replace it", path);
        if (someone_answers(&addr))
            return grey_error(err, errlen, "%s: another grey-noded answers there", path);
        unlink(path); /* a stale socket of a service that died */
    }
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0)
        return grey_error(err, errlen, "socket: %s", strerror(errno));
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || chmod(path, 0666) != 0 || listen(s, 128) != 0) {
        int e = errno;
        close(s);
        return grey_error(err, errlen, "%s: cannot listen: %s", path, strerror(e));
    }
    return s;
}

void noded_socket_serve(int listen_fd, const struct noded_ledger *nl, int owners_fd, gid_t group,
                        const char *group_name, bool verbose)
{
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c < 0)
        return;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        close(c);
        return;
    }
    if (grey_node_request_read(c, REQUEST_TIMEOUT_MS) != 0) {
        close(c); /* not a grey client, or too slow: nothing to answer */
        return;
    }
    struct grey_identity id;
    noded_identity_of(cred.uid, cred.gid, &id);
    bool allowed = cred.uid == 0 || (group != (gid_t)-1 && noded_identity_in_group(&id, group));
    if (!allowed) {
        char why[GREY_NODE_REASON_MAX];
        if (group == (gid_t)-1)
            snprintf(why, sizeof why, "uid %u is not root and the admin plan names no ledger_group", (unsigned)cred.uid);
        else
            snprintf(why, sizeof why, "uid %u is not in the ledger_group '%s'", (unsigned)cred.uid, group_name);
        grey_node_answer_send(c, GREY_NODE_REFUSED, why, NULL, 0);
        noded_log("refused pid %d: %s", (int)cred.pid, why);
        close(c);
        return;
    }
    int fds[GREY_NODE_FDS] = {[GREY_NODE_FD_LEDGER] = noded_ledger_client_fd(nl),
                              [GREY_NODE_FD_LIMITS] = nl->limits_fd,
                              [GREY_NODE_FD_OWNERS] = owners_fd};
    if (fds[0] < 0) {
        grey_node_answer_send(c, GREY_NODE_REFUSED, "the service cannot reopen its ledger", NULL, 0);
        noded_log("cannot reopen the ledger for pid %d: %s", (int)cred.pid, strerror(errno));
    } else if (grey_node_answer_send(c, GREY_NODE_OK, "", fds, GREY_NODE_FDS) != 0) {
        noded_log("pid %d: cannot send the ledger: %s", (int)cred.pid, strerror(errno));
    } else if (verbose) {
        noded_log("gave the ledger to pid %d (uid %u)", (int)cred.pid, (unsigned)cred.uid);
    }
    if (fds[0] >= 0)
        close(fds[0]);
    close(c);
}
