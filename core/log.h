/* Messages from inside someone else's process: one line each, straight to stderr with write(2)
 * (no stdio buffers to share with the host program, safe after fork). grey_warn is for what a
 * user must see (limits that are not in force); grey_log is opt-in with GREY_LOG=1. */
#ifndef GREY_LOG_H
#define GREY_LOG_H

#include <stdbool.h>

void grey_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void grey_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool grey_log_enabled;

#endif
