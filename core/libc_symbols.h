/* The C library's own functions that grey also exports (dlsym, dlvsym), found without asking the
 * dynamic linker by name, which would ask grey. */
#ifndef GREY_CORE_LIBC_SYMBOLS_H
#define GREY_CORE_LIBC_SYMBOLS_H

#include <stdbool.h>

/* The default version of name in libc.so.6 (or, before glibc 2.34, libdl.so.2), or NULL. */
void *grey_libc_symbol(const char *name);

#endif
