/* Loading plan files: read with open/read in small chunks (never mmap: a plan truncated by an
 * editor while a process maps it would raise SIGBUS inside the host program), fed line by line
 * to the parser (plan_parse.c), and the admin layer judged on the open descriptor. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_owner.h"
#include "plan_parser.h"

/* ---------------------------------------------------------------- loading */

static int load_fail(const char *path, char *err, size_t errlen, const char *what, int e)
{
    if (err && errlen > 0) {
        if (e)
            snprintf(err, errlen, "%s: %s: %s", path, what, strerror(e));
        else
            snprintf(err, errlen, "%s: %s", path, what);
    }
    return -1;
}

/* Feeds complete lines of buf[0..*have) to the parser and keeps the unfinished tail. */
static int feed_lines(struct grey_plan_parser *ps, char *buf, size_t *have)
{
    size_t start = 0;
    const char *nl;
    while ((nl = memchr(buf + start, '\n', *have - start)) != NULL) {
        size_t n = (size_t)(nl - (buf + start));
        if (grey_plan_parser_line(ps, buf + start, n) != 0)
            return -1;
        start += n + 1;
    }
    memmove(buf, buf + start, *have - start);
    *have -= start;
    return 0;
}

/* Reads and parses path; *admin_file says whether the file read is root-owned and writable by
 * nobody else (only grey_plan_load_admin turns that into an admin plan). */
static int load_file(const char *path, struct grey_plan *out, struct grey_plan_notes *notes,
                     char *err, size_t errlen, bool *admin_file)
{
    struct grey_plan_parser ps;
    *admin_file = false;
    grey_plan_parser_init(&ps, path, out, notes, err, errlen);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return load_fail(path, err, errlen, "cannot open", errno);
    /* Refuse early what is visibly wrong; the byte count below catches files that grow. */
    struct stat st;
    bool stat_ok = fstat(fd, &st) == 0;
    if (stat_ok && S_ISDIR(st.st_mode)) {
        close(fd);
        return load_fail(path, err, errlen, "cannot open", EISDIR);
    }
    if (stat_ok && S_ISREG(st.st_mode) && st.st_size > GREY_PLAN_MAX_BYTES) {
        close(fd);
        return load_fail(path, err, errlen, "larger than 256 KiB", 0);
    }

    char buf[PLAN_LINE_MAX];
    size_t have = 0, total = 0;
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = load_fail(path, err, errlen, "cannot read", errno);
            break;
        }
        if (n == 0) {
            if (have > 0)
                rc = grey_plan_parser_line(&ps, buf, have);
            if (rc == 0)
                rc = grey_plan_parser_finish(&ps);
            break;
        }
        total += (size_t)n;
        if (total > GREY_PLAN_MAX_BYTES) {
            rc = load_fail(path, err, errlen, "larger than 256 KiB", 0);
            break;
        }
        have += (size_t)n;
        if ((rc = feed_lines(&ps, buf, &have)) != 0)
            break;
        if (have == sizeof buf) {
            /* A full buffer with no newline: the line is too long. Report it as the parser would. */
            rc = grey_plan_parser_fail(&ps, ps.line + 1, "line longer than %d characters", PLAN_LINE_MAX - 1);
            break;
        }
    }
    close(fd);
    /* Judged on the file we read (fstat of the open descriptor), not on a path that could be
     * swapped in between. */
    if (rc == 0)
        *admin_file = stat_ok && S_ISREG(st.st_mode) && grey_plan_file_is_admin(st.st_uid, st.st_mode);
    return rc;
}

int grey_plan_load(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    return grey_plan_load_notes(path, out, NULL, err, errlen);
}

int grey_plan_load_notes(const char *path, struct grey_plan *out, struct grey_plan_notes *notes,
                         char *err, size_t errlen)
{
    bool admin_file;
    return load_file(path, out, notes, err, errlen, &admin_file); /* a user's plan: admin stays false */
}

/* No file there: ENOENT, or ENOTDIR when a directory on the way is a file ($HOME set to one). */
static bool absent(const char *path)
{
    struct stat st;
    return stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR);
}

int grey_plan_load_optional(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    if (absent(path))
        return 0;
    return grey_plan_load(path, out, err, errlen) == 0 ? 1 : -1;
}

int grey_plan_load_admin(const char *path, struct grey_plan *out, char *err, size_t errlen)
{
    if (absent(path))
        return 0;
    bool admin_file;
    if (load_file(path, out, NULL, err, errlen, &admin_file) != 0)
        return -1;
    out->admin = admin_file;
    return 1;
}

bool grey_plan_file_is_admin(unsigned owner_uid, unsigned mode)
{
    /* Root as the kernel's outermost namespace knows it: inside `unshare -Ur` a root-owned plan
     * shows as the overflow uid, and the user's own files as uid 0 (policy/file_owner.h). */
    return grey_owner_is_root((uid_t)owner_uid) && (mode & (S_IWGRP | S_IWOTH)) == 0;
}
