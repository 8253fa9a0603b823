/* The one assertion the integration programs share: print "FAIL: ..." and count, so a program
 * reports every mismatch of a run, not only the first, and exits 1 at the end if any. */
#ifndef GREY_TEST_CHECK_H
#define GREY_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: " __VA_ARGS__);                                                          \
            printf("\n");                                                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
