/* Messages from inside someone else's process: one line each, straight to stderr with write(2)
 * (no stdio buffers to share with the host program, safe after fork). grey_warn is for what a
 * user must see (limits that are not in force); grey_log is opt-in with GREY_LOG=1. */
#ifndef GREY_LOG_H
#define GREY_LOG_H

#include <stdbool.h>

void grey_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void grey_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern bool grey_log_enabled;

/* True the first time it is asked about topic (a function's name, say), false after: for what is
 * said once per name rather than once per call. topic is copied (up to 63 characters); past 128
 * topics every further one counts as said, so a flood of names cannot flood stderr. */
bool grey_first_time(const char *topic);

#endif
