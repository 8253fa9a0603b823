/* grey-noded's log: one line per event, on stderr in the foreground (systemd's journal takes it
 * from there) or to syslog (daemon facility) when it runs detached. Tests read the stderr lines. */
#ifndef GREY_NODED_LOG_H
#define GREY_NODED_LOG_H

#include <stdbool.h>

void noded_log_to_syslog(bool on);
void noded_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
