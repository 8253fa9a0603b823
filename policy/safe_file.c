/* Files in shared places, opened without following symlinks (see safe_file.h). */
#include "safe_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "file_owner.h"

/* Splits path into its directory (".", "/" or the part before the last slash) and its last
 * component; -1 when the last component is empty or the parts do not fit. */
static int split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!**base || strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
        return -1;
    size_t n = slash ? (size_t)(slash - path) : 1;
    const char *from = slash ? path : ".";
    if (slash == path)
        n = 1; /* "/name": the root directory */
    if (n >= dirlen)
        return -1;
    memcpy(dir, from, n);
    dir[n] = '\0';
    return 0;
}

/* Opens the directory path lives in and checks that nobody but us and root can swap names in
 * it. Returns the descriptor or -1 with the reason in err. */
static int open_checked_dir(const char *path, const char **base, char *err, size_t errlen)
{
    char dir[4096];
    if (split_path(path, dir, sizeof dir, base) != 0) {
        errno = ENAMETOOLONG;
        return grey_error(err, errlen, "%s: not a file name (or too long)", path);
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        grey_error(err, errlen, "%s: cannot open its directory %s: %s", path, dir, strerror(e));
        errno = e == ENOENT ? ENOTDIR : e; /* not "no such ledger": nothing can be created there */
        return -1;
    }
    struct stat ds;
    if (fstat(dfd, &ds) != 0) {
        int e = errno;
        close(dfd);
        return grey_error(err, errlen, "%s: cannot stat its directory %s: %s", path, dir, strerror(e));
    }
    bool ours = ds.st_uid == geteuid() || grey_owner_is_root(ds.st_uid);
    bool shared_unsticky = (ds.st_mode & (S_IWGRP | S_IWOTH)) && !(ds.st_mode & S_ISVTX);
    if (!ours || shared_unsticky) {
        close(dfd);
        errno = EPERM;
        return grey_error(err, errlen, "%s: its directory %s is %s; refusing it (another user could put any file "
                          "there)", path, dir, !ours ? "owned by another user" : "writable by others and not sticky");
    }
    return dfd;
}

int grey_safe_open(const char *path, int access, bool create, mode_t mode, struct stat *st, bool *created,
                   char *err, size_t errlen)
{
    *created = false;
    const char *base;
    int dfd = open_checked_dir(path, &base, err, errlen);
    if (dfd < 0)
        return -1;
    int fd = -1, e = 0;
    /* Open what is there, else create it exclusively; a name that appears or vanishes between
     * the two is tried again, a few times. */
    for (int tries = 0; tries < 8 && fd < 0; tries++) {
        fd = openat(dfd, base, access | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT || !create) {
            e = errno;
            break;
        }
        fd = openat(dfd, base, access | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
        e = errno;
        if (fd >= 0)
            *created = true;
        else if (e != EEXIST)
            break;
    }
    close(dfd);
    if (fd < 0) {
        if (e == ELOOP)
            grey_error(err, errlen, "%s: is a symbolic link; refusing to follow it", path);
        else
            grey_error(err, errlen, "%s: cannot open: %s", path, strerror(e));
        errno = e; /* callers may retry read-only on EACCES */
        return -1;
    }
    bool stat_ok = fstat(fd, st) == 0;
    if (!stat_ok || !S_ISREG(st->st_mode)) {
        e = stat_ok ? EINVAL : errno;
        close(fd);
        if (!stat_ok)
            grey_error(err, errlen, "%s: cannot stat: %s", path, strerror(e));
        else
            grey_error(err, errlen, "%s: not a regular file; refusing it", path);
        errno = e;
        return -1;
    }
    /* O_NONBLOCK only kept a FIFO planted at the name from blocking the open. */
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

int grey_safe_temp_beside(const char *path, mode_t mode, char *tmp, size_t tmplen, char *err, size_t errlen)
{
    char dir[4096];
    const char *base;
    if (split_path(path, dir, sizeof dir, &base) != 0)
        return grey_error(err, errlen, "%s: not a file name (or too long)", path);
    int n = snprintf(tmp, tmplen, "%s/.%s.XXXXXX", dir, base);
    if (n < 0 || (size_t)n >= tmplen)
        return grey_error(err, errlen, "%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return grey_error(err, errlen, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
    if (fchmod(fd, mode) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return grey_error(err, errlen, "%s: cannot set the mode of %s: %s", path, tmp, strerror(e));
    }
    return fd;
}

mode_t grey_safe_replacement_mode(const char *path, mode_t want)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
        return want & st.st_mode & 07777;
    return want;
}
