#include "noded_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

static bool use_syslog;

void noded_log_to_syslog(bool on)
{
    use_syslog = on;
    if (on)
        openlog("grey-noded", LOG_PID, LOG_DAEMON);
}

void noded_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (use_syslog) {
        syslog(LOG_NOTICE, "%s", line);
        return;
    }
    /* One write per line, flushed at once: a test (or the journal) sees each event as it happens. */
    fprintf(stderr, "grey-noded: %s\n", line);
    fflush(stderr);
}
