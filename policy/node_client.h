/* The node ledger from grey-noded, for anyone who asks (the hook at startup, grey-top and the
 * exporter): fetch the descriptors (policy/node_wire.h), map the ledger (grey_ledger_open_fd:
 * sealed against truncation), read the limits once (sealed against writing, so the copy is the
 * truth for as long as the process lives) and map the slots' owners read-only (only the service
 * writes it, policy/node_owners.h). */
#ifndef GREY_NODE_CLIENT_H
#define GREY_NODE_CLIENT_H

#include <stddef.h>

#include "ledger.h"
#include "node_limits.h"

/* The name the service's ledger goes by (it exists on no path): this prefix and the socket. */
#define GREY_NODE_LEDGER_PREFIX "grey-noded:"

/* 0 with lg open (read-write, its own open file description), *limits filled and, when owners is
 * not NULL, *owners mapped (for the process's lifetime); or -1 with one line in err and nothing
 * left open. */
struct grey_node_owners;
int grey_node_ledger_open(const char *socket_path, int timeout_ms, struct grey_ledger *lg,
                          struct grey_node_limits *limits, const struct grey_node_owners **owners, char *err,
                          size_t errlen);

/* Reads a limits table from a descriptor sealed as grey_node_limits_seals() says. 0 or -1. */
int grey_node_limits_read(int fd, struct grey_node_limits *limits, char *err, size_t errlen);

#endif
