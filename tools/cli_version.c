/* What every grey tool prints for --version. The version itself lives in the top-level VERSION
 * file only; the Makefile passes it in as GREY_VERSION, so the tools, the man pages and the
 * Debian package cannot disagree about it. */
#include <stdio.h>

#include "cli_common.h"

#ifndef GREY_VERSION
#error "GREY_VERSION must be defined by the build (the Makefile reads it from VERSION)"
#endif

const char *cli_version_string(void) { return GREY_VERSION; }

void cli_print_version(const char *prog)
{
    printf("%s (grey) %s\n", prog, GREY_VERSION);
    fputs("Copyright the grey authors. Licensed under the Apache License, Version 2.0.\n", stdout);
}
