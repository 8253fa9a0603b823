#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

bool grey_log_enabled;

static void log_line(const char *fmt, va_list ap)
{
    char line[512];
    int n = snprintf(line, sizeof line, "grey[%d]: ", (int)getpid());
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}

void grey_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}

void grey_log(const char *fmt, ...)
{
    if (!grey_log_enabled)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(fmt, ap);
    va_end(ap);
}
