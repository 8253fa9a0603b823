/* Which ledger a tool reads (grey-top, grey-exporter): a file, or the node ledger grey-noded
 * serves, named "grey-noded:SOCKET" as the hook names it in its own messages. By default the
 * hook's rule: the admin plan's node_service while its socket is there (that ledger exists on no
 * path; the service hands it out), else the ledger file (policy/ledger_path.h), which is also
 * read when the service does not answer. --ledger names either kind explicitly. */
#ifndef GREY_LEDGER_SOURCE_H
#define GREY_LEDGER_SOURCE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "ledger_view.h"
#include "policy/node_client.h"
#include "policy/plan.h"

#define LEDGER_SERVICE_PREFIX GREY_NODE_LEDGER_PREFIX
/* How long a tool waits for the service's answer: longer than the hook does (a tool is not in a
 * program's constructor), short enough for a scrape. */
#define LEDGER_SERVICE_TIMEOUT_MS 1000

/* The socket when path names the service's ledger ("grey-noded:SOCKET"), else NULL. */
const char *ledger_source_socket(const char *path);

/* Whether there is a ledger at path now: the file exists (or cannot be told not to), or a socket
 * is at the service's path. */
bool ledger_source_present(const char *path);

struct ledger_choice {
    char given[PATH_MAX];   /* --ledger, "" when not given */
    char service[PATH_MAX]; /* "grey-noded:SOCKET" from the admin plan's node_service, "" none */
    char file[PATH_MAX];    /* the ledger file, by the hook's rule */
};

/* plans: the admin plan (first) and any user plan, as loaded; given: --ledger or NULL. */
void ledger_choice_init(struct ledger_choice *c, const char *given, const struct grey_plan *const *plans, unsigned n);

/* The ledger to read now: --ledger when given, else the service's while a socket is at its
 * path, else the file. */
const char *ledger_choice_now(const struct ledger_choice *c);

/* Loads the view from ledger_choice_now (grey_view_load); when that is the service's and it
 * does not answer, the file as the hook would. *shown: the ledger read (or tried). */
int ledger_choice_load(const struct ledger_choice *c, bool reclaim, struct grey_view *v, const char **shown,
                       char *err, size_t errlen);

#endif
