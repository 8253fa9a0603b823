/* grey-noded's socket: where hooked processes ask for the node ledger (policy/node_wire.h). */
#ifndef GREY_NODED_SOCKET_H
#define GREY_NODED_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "noded_ledger.h"

/* Binds and listens at path (the admin plan's node_service). A service already answering there
 * is an error (two services would hand out two ledgers); a stale socket root left is replaced;
 * anything else at the path is refused. The socket is mode 0666: who gets the ledger is decided
 * per connection by the peer's credentials, never by the file's mode. Returns the descriptor or
 * -1 with the reason in err. */
int noded_socket_listen(const char *path, char *err, size_t errlen);

/* Answers one waiting client: the ledger, the limits and the owners file (owners_fd) to root and
 * members of group (group -1: root only), a refusal with one line to anyone else. verbose: log
 * every hand-out too. */
void noded_socket_serve(int listen_fd, const struct noded_ledger *nl, int owners_fd, gid_t group,
                        const char *group_name, bool verbose);

#endif
