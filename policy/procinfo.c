#include "procinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Reads at most buflen-1 bytes of a small /proc file; returns the length or -1. */
static ssize_t read_small_file(const char *path, char *buf, size_t buflen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t total = 0;
    while (total + 1 < buflen) {
        ssize_t n = read(fd, buf + total, buflen - 1 - total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        total += (size_t)n;
    }
    close(fd);
    buf[total] = '\0';
    return (ssize_t)total;
}

/* Reads the state letter (field 3) and starttime (field 22) of /proc/PID/stat. */
static int read_stat(pid_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_small_file(path, buf, sizeof buf) <= 0)
        return -1;
    /* The command (field 2) is in parentheses and may itself contain ") ", so fields are
     * counted from the last ')'. The state is field 3, starttime field 22. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return -1;
    *state = p[2];
    p++;
    for (int field = 2; field < 22; field++) {
        p = strchr(p, ' ');
        if (!p)
            return -1;
        p++;
    }
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    *start = v;
    return 0;
}

int grey_proc_start_time(pid_t pid, uint64_t *out)
{
    char state;
    return read_stat(pid, &state, out);
}

/* A zombie has released its memory (the driver's included) and only waits to be reaped, so
 * for grey it is gone. */
static bool is_gone(char state) { return state == 'Z' || state == 'X' || state == 'x'; }

int grey_proc_alive(pid_t pid, uint64_t start_time)
{
    if (pid <= 0)
        return 0;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return 0;
    uint64_t now_start;
    char state;
    /* kill says the pid exists; a /proc we may not read (hidepid, another user's process on a
     * node ledger) cannot tell us more, and a live owner must never be taken for dead. */
    if (read_stat(pid, &state, &now_start) != 0)
        return 1;
    return now_start == start_time && !is_gone(state);
}

bool grey_proc_exists(pid_t pid)
{
    if (pid <= 0)
        return false;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return false;
    uint64_t start;
    char state;
    /* Unreadable /proc (hidepid): kill said it exists, so believe it. */
    if (read_stat(pid, &state, &start) != 0)
        return true;
    return !is_gone(state);
}

uint64_t grey_proc_pid_namespace(void)
{
    char link[64];
    ssize_t n = readlink("/proc/self/ns/pid", link, sizeof link - 1);
    unsigned long long ino = 0;
    if (n > 0) {
        link[n] = '\0';
        if (sscanf(link, "pid:[%llu]", &ino) != 1)
            ino = 0;
    }
    return ino;
}

pid_t grey_proc_host_pid(void)
{
    if (grey_proc_pid_namespace() == GREY_PIDNS_INIT)
        return getpid();
    char buf[4096];
    if (read_small_file("/proc/self/status", buf, sizeof buf) <= 0)
        return -1;
    const char *line = strstr(buf, "\nNSpid:");
    if (!line)
        return -1;
    line += strlen("\nNSpid:");
    long outer = -1;
    int fields = 0;
    while (*line && *line != '\n') {
        while (*line == ' ' || *line == '\t')
            line++;
        if (*line < '0' || *line > '9')
            break;
        long v = 0;
        for (; *line >= '0' && *line <= '9'; line++)
            v = v * 10 + (*line - '0');
        if (fields++ == 0)
            outer = v;
    }
    /* One field: /proc is this namespace's own, and the host's number for us is not in it. */
    return fields >= 2 ? (pid_t)outer : -1;
}

void grey_proc_self_command(char *buf, size_t buflen)
{
    if (buflen == 0)
        return;
    ssize_t n = read_small_file("/proc/self/cmdline", buf, buflen);
    if (n <= 0) {
        buf[0] = '\0';
        return;
    }
    /* Arguments are NUL-separated; the last NUL terminates. */
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = '\0';
}

int grey_proc_ids(pid_t pid, uid_t *uid, gid_t *gid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (read_small_file(path, buf, sizeof buf) <= 0)
        return -1;
    const char *u = strstr(buf, "\nUid:"), *g = strstr(buf, "\nGid:");
    unsigned long a, b;
    if (!u || !g || sscanf(u + 5, "%lu", &a) != 1 || sscanf(g + 5, "%lu", &b) != 1)
        return -1;
    *uid = (uid_t)a;
    *gid = (gid_t)b;
    return 0;
}
