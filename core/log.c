#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

#define TOPICS 128
#define TOPIC_LEN 64
static char topics[TOPICS][TOPIC_LEN];
static unsigned ntopics;
static pthread_mutex_t topics_lock = PTHREAD_MUTEX_INITIALIZER;

bool grey_first_time(const char *topic)
{
    pthread_mutex_lock(&topics_lock);
    bool first = ntopics < TOPICS;
    for (unsigned i = 0; i < ntopics && first; i++)
        if (strncmp(topics[i], topic, TOPIC_LEN - 1) == 0)
            first = false;
    if (first) {
        strncpy(topics[ntopics], topic, TOPIC_LEN - 1);
        ntopics++;
    }
    pthread_mutex_unlock(&topics_lock);
    return first;
}
