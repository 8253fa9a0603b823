/* The call site of an allocation: the return addresses above the intercepted call, captured
 * with libunwind's unw_backtrace and interned in policy/sites.h. Only raw addresses are taken
 * here (~6 ns a frame after libunwind's per-address cache is warm); turning them into modules and
 * offsets happens when a record is written (preload/modules.h), and into function names and
 * source lines in the tools. */
#ifndef GREY_CALLSITE_H
#define GREY_CALLSITE_H

#include <stdint.h>

/* The site id of the current call stack (frames inside libgreyhook.so left out), or
 * GREY_SITE_NONE when sites are off (GREY_TRACK_SITES=0) or libunwind is missing. */
uint32_t grey_callsite_capture(void);

#endif
