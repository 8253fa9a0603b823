/* The one way grey's functions report a failure to their caller: a one-line reason written into
 * a caller's buffer (when it gave one), and -1 to return. */
#ifndef GREY_ERRMSG_H
#define GREY_ERRMSG_H

#include <stddef.h>

/* Formats the reason into err (at most errlen bytes, NUL-terminated; nothing when err is NULL
 * or errlen is 0) and returns -1, so callers can write `return grey_error(err, errlen, ...)`. */
int grey_error(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
