/* How a hooked process asks grey-noded for the node ledger, over the Unix socket the admin plan
 * names (node_service).
 *
 *   client -> service   struct grey_node_request
 *   service -> client   struct grey_node_answer, and with status GREY_NODE_OK three descriptors
 *                       (SCM_RIGHTS): the ledger (a sealed memory file, read-write, an open file
 *                       description of the client's own: its OFD locks are the client's
 *                       liveness), the limits (sealed against writing, policy/node_limits.h) and
 *                       the slots' owners (only the service can write it, policy/node_owners.h)
 *
 * Each side believes the other by the kernel's word, never by what is written: the service looks
 * at the client's SO_PEERCRED (only root and members of the plan's ledger_group get the ledger),
 * and the client takes an answer only from a socket whose peer is root. The client side is
 * bounded in time (a few tens of milliseconds at most, then it falls back), since it runs in
 * every hooked process's constructor. */
#ifndef GREY_NODE_WIRE_H
#define GREY_NODE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define GREY_NODE_MAGIC "GREYNOD" /* 8 bytes with the NUL */
#define GREY_NODE_PROTOCOL 2 /* 2: the owners file joined the answer */
#define GREY_NODE_REASON_MAX 200

enum grey_node_status { GREY_NODE_OK = 0, GREY_NODE_REFUSED = 1 };

struct grey_node_request {
    char magic[8];
    uint32_t protocol;
    uint32_t reserved;
};

struct grey_node_answer {
    char magic[8];
    uint32_t protocol;
    uint32_t status;                  /* enum grey_node_status */
    char reason[GREY_NODE_REASON_MAX]; /* why not, for a refusal: one line */
};

/* How long the hook waits for the service, in all (connect, send, answer). Tens of ms, not a
 * few: a loaded node must not push every process off the sealed ledger, and the wait happens
 * once per process, in its constructor. */
#define GREY_NODE_TIMEOUT_MS 100

/* The descriptors of an answer, in this order. */
enum { GREY_NODE_FD_LEDGER, GREY_NODE_FD_LIMITS, GREY_NODE_FD_OWNERS, GREY_NODE_FDS };

/* Asks the service at path for the ledger: 0 with fds[GREY_NODE_FD_*] set (O_CLOEXEC), or -1
 * with one line in err (no service there, not root's, refused, no answer in time, a malformed
 * answer) and every fds[] -1. Opens nothing that outlives a failure. */
int grey_node_fetch(const char *path, int timeout_ms, int fds[GREY_NODE_FDS], char *err, size_t errlen);

/* The service's side: one answer on sock, with nfds (0 or GREY_NODE_FDS) descriptors. 0 or -1
 * (errno). */
int grey_node_answer_send(int sock, enum grey_node_status status, const char *reason, const int *fds, int nfds);

/* The service's side: reads a request within timeout_ms. 0 when it is one, -1 otherwise. */
int grey_node_request_read(int sock, int timeout_ms);

#endif
