#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/settings.h"
#include "policy/report_dir.h"
#include "policy/sites.h"
#include "policy/ticks.h"
#include "policy/tracker.h"
#include "recorder.h"
#include "shim/vmm_share.h"

#define POLL_MS 250
/* A peak snapshot is taken when the process has stayed at a new maximum for one poll and that
 * maximum is this much above the last peak snapshot's (re-reading everything for every small
 * rise would cost more than it tells). */
#define PEAK_GROWTH 1.10

static atomic_bool stopping;
static int listen_fd = -1;
static char socket_path[600];
static pthread_mutex_t path_lock = PTHREAD_MUTEX_INITIALIZER;

static void open_socket(void)
{
    char base[512], dir[600], err[600];
    if (grey_report_base(grey_settings()->report_base, base, sizeof base, true, err, sizeof err) != 0 ||
        grey_report_live_dir(base, dir, sizeof dir) != 0 || grey_report_private_dir(dir, err, sizeof err) != 0) {
        grey_log("no live requests: %s", err);
        return;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (grey_report_live_socket(base, (int)getpid(), addr.sun_path, sizeof addr.sun_path) != 0) {
        grey_log("no live requests: socket path too long");
        return;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    unlink(addr.sun_path); /* a dead process with our pid left it */
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4) != 0) {
        grey_log("no live requests: %s: %s", addr.sun_path, strerror(errno));
        close(fd);
        return;
    }
    pthread_mutex_lock(&path_lock);
    snprintf(socket_path, sizeof socket_path, "%s", addr.sun_path);
    listen_fd = fd;
    pthread_mutex_unlock(&path_lock);
}

static void reply(int fd, const char *text)
{
    size_t off = 0, len = strlen(text);
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

/* "read ADDR OFFSET N\n" -> "ok N\n" and the N bytes at OFFSET in the tracked buffer at ADDR
 * (hexadecimal address; N at most 1 MiB, read into one buffer mapped at the first request), or
 * "error WHY\n": what grey-report --node --verify compares. */
static void serve_read(int fd, const char *args)
{
    static unsigned char *buf;
    unsigned long long addr, offset, n;
    int used = 0;
    if (sscanf(args, "%llx %llu %llu%n", &addr, &offset, &n, &used) != 3 || (args[used] != '\n' && args[used]) ||
        n == 0 || n > (1u << 20)) {
        reply(fd, "error malformed read request\n");
        return;
    }
    if (!buf) {
        void *m = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        buf = m == MAP_FAILED ? NULL : m;
    }
    if (!buf || grey_recorder_read(addr, offset, buf, n) != 0) {
        reply(fd, "error no such tracked buffer, or it cannot be read\n");
        return;
    }
    char head[32];
    snprintf(head, sizeof head, "ok %llu\n", n);
    reply(fd, head);
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(fd, buf + off, n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        off += (size_t)k;
    }
}

/* One request: "snapshot\n" -> "ok PATH\n" (a raw record written now) or "error WHY\n". Only
 * the same user may ask (the directory is private; the peer's uid is checked as well). */
static void serve(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != geteuid())
        return;
    char req[64];
    size_t got = 0;
    while (got < sizeof req - 1) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 2000) <= 0)
            return;
        ssize_t n = read(fd, req + got, sizeof req - 1 - got);
        if (n <= 0)
            return;
        got += (size_t)n;
        if (memchr(req, '\n', got))
            break;
    }
    req[got] = '\0';
    if (strncmp(req, "read ", 5) == 0) {
        serve_read(fd, req + 5);
        return;
    }
    if (strncmp(req, "snapshot", 8) != 0) {
        reply(fd, "error unknown request\n");
        return;
    }
    grey_recorder_snapshot(GREY_FP_LIVE, 0);
    char path[1024], err[1200], out[1300];
    if (grey_recorder_write("live", path, sizeof path, err, sizeof err) == 0)
        snprintf(out, sizeof out, "ok %s\n", path);
    else
        snprintf(out, sizeof out, "error %s\n", err);
    reply(fd, out);
}

static void *agent_main(void *arg)
{
    (void)arg;
    const struct grey_settings *cfg = grey_settings();
    open_socket();
    uint64_t last_periodic = grey_mono_ns(), last_peak_snapshot = 0, previous_live = 0;
    while (!atomic_load(&stopping)) {
        int fd = listen_fd;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, fd >= 0 ? 1 : 0, POLL_MS);
        if (atomic_load(&stopping))
            break;
        grey_vmm_share_settle(); /* shared VMM memory nobody holds any more, even in an idle process */
        if (r > 0 && (p.revents & POLLIN)) {
            int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
            if (c >= 0) {
                serve(c);
                close(c);
            }
        }
        if (!cfg->dedup)
            continue;
        uint64_t now = grey_mono_ns();
        if (cfg->interval_s && now - last_periodic >= cfg->interval_s * 1000000000ull) {
            grey_recorder_snapshot(GREY_FP_PERIODIC, 0);
            last_periodic = grey_mono_ns();
        }
        struct grey_peak pk;
        sites_peak(&pk);
        if (pk.live > 0 && pk.live == pk.bytes && pk.live == previous_live &&
            (double)pk.live >= (double)last_peak_snapshot * PEAK_GROWTH) {
            grey_recorder_snapshot(GREY_FP_PEAK, 0);
            last_peak_snapshot = pk.live;
        }
        previous_live = pk.live;
    }
    return NULL;
}

void grey_agent_start(void)
{
    atomic_store(&stopping, false);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits the mask */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, agent_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        grey_log("no agent thread: %s", strerror(rc));
    else
        pthread_setname_np(t, "grey-agent");
}

void grey_agent_stop(void)
{
    atomic_store(&stopping, true);
    pthread_mutex_lock(&path_lock);
    if (socket_path[0])
        unlink(socket_path);
    socket_path[0] = '\0';
    pthread_mutex_unlock(&path_lock);
}

void grey_agent_fork_child(void)
{
    pthread_mutex_init(&path_lock, NULL);
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    socket_path[0] = '\0'; /* the parent's, not to be unlinked by us */
}
