/* LD_PRELOAD with the hook once, and the end of the job's process: see job_env.h. A substring
 * test of LD_PRELOAD would be wrong both ways: it takes /x/libgreyhook.so.old for the hook, and it
 * misses nothing a whole-entry test keeps. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job_env.h"

#define JOB_COMM_MAX 15 /* TASK_COMM_LEN less its NUL */

bool job_preload_has(const char *list, const char *hook)
{
    size_t n = strlen(hook);
    if (!list || n == 0)
        return false;
    const char *p = list;
    while (*p) {
        p += strspn(p, ": ");
        size_t len = strcspn(p, ": ");
        if (len == n && strncmp(p, hook, n) == 0)
            return true;
        p += len;
    }
    return false;
}

int job_preload_value(const char *old, const char *hook, char *out, size_t outlen)
{
    int n;
    if (old && job_preload_has(old, hook))
        n = snprintf(out, outlen, "%s", old);
    else if (old && *old)
        n = snprintf(out, outlen, "%s:%s", old, hook);
    else
        n = snprintf(out, outlen, "%s", hook);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

bool job_comm_is_command(const char *comm, const char *command)
{
    if (!comm || !*comm || !command || !*command)
        return false;
    size_t len = strcspn(command, " "); /* argv[0] */
    const char *name = command;
    for (size_t i = 0; i < len; i++)
        if (command[i] == '/')
            name = command + i + 1;
    size_t nlen = (size_t)(command + len - name);
    if (nlen > JOB_COMM_MAX)
        nlen = JOB_COMM_MAX;
    return nlen > 0 && strlen(comm) == nlen && memcmp(comm, name, nlen) == 0;
}

/* /proc/PID/stat is "PID (COMM) STATE ...", and COMM may hold spaces and parentheses: it runs
 * to the last ')'. A zombie keeps it until reaped. */
static void read_comm(pid_t pid, char *comm, size_t commlen)
{
    char path[64], buf[512];
    comm[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
    if (!open_paren || !close_paren || close_paren <= open_paren)
        return;
    size_t len = (size_t)(close_paren - open_paren - 1);
    if (len >= commlen)
        len = commlen - 1;
    memcpy(comm, open_paren + 1, len);
    comm[len] = '\0';
}

int job_wait(pid_t pid, int *status, char *comm, size_t commlen)
{
    siginfo_t info;
    int r;
    do /* WNOWAIT: it stays a zombie, whose comm /proc still shows */
        r = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
    while (r < 0 && errno == EINTR);
    if (commlen)
        comm[0] = '\0';
    if (r == 0 && commlen)
        read_comm(pid, comm, commlen);
    while (waitpid(pid, status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}
