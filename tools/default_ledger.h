/* The ledger a tool reads when none is given: the one the hooks of this node use, by the hook's
 * own rule (policy/ledger_path.h), so grey-top and grey-report --node look where the hooks write. */
#ifndef GREY_DEFAULT_LEDGER_H
#define GREY_DEFAULT_LEDGER_H

#include <stddef.h>

/* grey-noded's ledger ("grey-noded:SOCKET", ledger_source.h) while a socket is at the admin
 * plan's node_service; else the admin plan's ledger, else the user plan's when one is required,
 * else GREY_LEDGER, else /dev/shm/grey-UID.ledger, in buf. An admin plan that cannot be read is warned about as prog
 * ("ignored when choosing the ledger") and passed over, as the hook passes over it. */
void grey_tool_default_ledger(const char *prog, char *buf, size_t len);

struct grey_plan;
/* The plans that choice is made from, loaded as the hook loads them: the admin plan first (warned
 * about as prog and passed over when it cannot be read), then the user plan when one is required.
 * Their count; they live in static storage until the next call. */
unsigned grey_tool_ledger_plans(const char *prog, const struct grey_plan *list[2]);

#endif
