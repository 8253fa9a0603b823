/* The exporter's listening socket from "HOST:PORT" or "[V6]:PORT": made here, not by
 * libmicrohttpd, so that any address getaddrinfo takes works and the address really bound (port
 * 0 picks one) can be printed. */
#ifndef GREY_LISTEN_ADDR_H
#define GREY_LISTEN_ADDR_H

#include <stddef.h>

/* "HOST:PORT" or "[V6]:PORT" into host and port; 0, or -1 when it is neither. */
int listen_split_address(const char *text, char *host, size_t hlen, char *port, size_t plen);

/* A listening, close-on-exec, non-blocking socket, or -CLI_EXIT_USAGE / -CLI_EXIT_FAIL after
 * saying why (prog names the tool in the message). shown gets the address bound. */
int listen_on(const char *prog, const char *address, int backlog, char *shown, size_t shownlen);

#endif
