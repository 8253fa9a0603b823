/* LD_PRELOAD with the hook once: see job_env.h. A substring test would be wrong both ways: it
 * takes /x/libgreyhook.so.old for the hook, and it misses nothing a whole-entry test keeps. */
#include <stdio.h>
#include <string.h>

#include "job_env.h"

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
