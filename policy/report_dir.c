#include "report_dir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int grey_report_private_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    return grey_report_check_private(path, err, errlen);
}

int grey_report_check_private(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, errlen, "%s belongs to another user (uid %u); refusing to use it", path, (unsigned)st.st_uid);
        return -1;
    }
    if (st.st_mode & 0077) {
        snprintf(err, errlen, "%s is open to other users (mode %03o); it must be 0700", path,
                 (unsigned)(st.st_mode & 0777));
        return -1;
    }
    return 0;
}

int grey_report_base(const char *base, char *out, size_t len, bool create, char *err, size_t errlen)
{
    int n = base && *base ? snprintf(out, len, "%s", base) : -1;
    if (n < 0 || (size_t)n >= len) {
        snprintf(err, errlen, "report directory path too long");
        return -1;
    }
    if (!create) {
        struct stat st;
        if (stat(out, &st) != 0) {
            snprintf(err, errlen, "%s: %s", out, strerror(errno));
            return -1;
        }
        return 0;
    }
    return grey_report_private_dir(out, err, errlen);
}

int grey_report_live_dir(const char *base, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/live", base);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int grey_report_live_socket(const char *base, int pid, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/live/%d.sock", base, pid);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}
