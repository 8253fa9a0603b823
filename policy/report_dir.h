/* Where buffer reports, raw records and live-request sockets live: one private directory per user,
 *
 *   $GREY_DIR, else $XDG_RUNTIME_DIR/grey, else /tmp/grey-$UID (policy/settings.h)
 *
 * created with mode 0700 (the last path component only). A directory that exists but belongs to someone else, or that others
 * may enter, is refused: on a shared /tmp another user could otherwise read the records (they
 * hold addresses and program paths) or plant a socket that grey-report would talk to. */
#ifndef GREY_REPORT_DIR_H
#define GREY_REPORT_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* The base directory (base: the setting's value, policy/settings.h; "" when it did not fit) in
 * out; with create, made when missing and checked to be private. 0, or -1 with the reason in
 * err. */
int grey_report_base(const char *base, char *out, size_t len, bool create, char *err, size_t errlen);

/* Makes path a private directory (0700, ours), or checks that it already is one. */
int grey_report_private_dir(const char *path, char *err, size_t errlen);

/* Checks, without creating anything, that path is a directory (not a symlink) of this user that
 * nobody else may enter. 0, or -1 with the reason in err. */
int grey_report_check_private(const char *path, char *err, size_t errlen);

/* BASE/live: where hooked processes listen for grey-report --live. */
int grey_report_live_dir(const char *base, char *out, size_t len);
/* BASE/live/PID.sock */
int grey_report_live_socket(const char *base, int pid, char *out, size_t len);

#endif
