/* Running a tool with a time and size limit (see run_capture.h). fork + exec rather than popen:
 * popen gives no way to stop a tool that hangs, and goes through a shell that would re-parse the
 * arguments. */
#include "run_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The first executable NAME in PATH (or NAME itself when it has a '/'), like execvp would. */
static int find_in_path(const char *name, char *buf, size_t len)
{
    if (strchr(name, '/')) {
        snprintf(buf, len, "%s", name);
        return access(buf, X_OK);
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        /* An empty PATH entry means the current directory. */
        int w = snprintf(buf, len, "%.*s%s%s", (int)n, p, n ? "/" : "", name);
        if (w > 0 && (size_t)w < len && access(buf, X_OK) == 0)
            return 0;
        if (!colon)
            return -1;
        p = colon + 1;
    }
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int run_capture(const char *const argv[], size_t max_bytes, int timeout_ms, struct capture *cap, char *err,
                size_t errlen)
{
    memset(cap, 0, sizeof *cap);
    char exe[4096];
    if (find_in_path(argv[0], exe, sizeof exe) != 0) {
        snprintf(err, errlen, "%s: not found in PATH", argv[0]);
        return -1;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "%s: cannot create a pipe: %s", argv[0], strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        snprintf(err, errlen, "%s: cannot fork: %s", argv[0], strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 2);
        }
        dup2(fds[1], 1);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);

    size_t cap_bytes = max_bytes + 1;
    cap->out = malloc(cap_bytes);
    long deadline = now_ms() + timeout_ms;
    for (;;) {
        long left = deadline - now_ms();
        if (left <= 0) {
            cap->timed_out = 1;
            break;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int r = poll(&pfd, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            cap->timed_out = r == 0;
            break;
        }
        char chunk[8192];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n;
        if (cap->len + take > max_bytes) {
            take = max_bytes - cap->len;
            cap->truncated = 1;
        }
        if (cap->out)
            memcpy(cap->out + cap->len, chunk, take);
        cap->len += take;
        if (cap->truncated)
            break;
    }
    close(fds[0]);
    if (cap->timed_out || cap->truncated)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    cap->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (!cap->out) {
        snprintf(err, errlen, "%s: out of memory", argv[0]);
        return -1;
    }
    cap->out[cap->len] = '\0';
    return 0;
}

void capture_free(struct capture *cap)
{
    free(cap->out);
    cap->out = NULL;
    cap->len = 0;
}
