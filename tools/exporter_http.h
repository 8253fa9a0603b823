/* grey-exporter's HTTP side, on libmicrohttpd: a small pool of threads each polling its share
 * of the connections with epoll, so a client that trickles its request in (or never finishes
 * it) holds one connection slot and nothing else; a scrape arriving meanwhile is answered at
 * once. Connections are capped in number and in memory, and closed when idle for the timeout. */
#ifndef GREY_EXPORTER_HTTP_H
#define GREY_EXPORTER_HTTP_H

#include "ledger_source.h"
#include "metrics.h"

struct exporter_config {
    const struct ledger_choice *ledger;  /* chosen and read afresh at every scrape */
    struct grey_metrics_options metrics;
    unsigned max_connections;            /* open at once, all clients together */
    unsigned max_per_ip;                 /* open at once from one address */
    unsigned timeout_s;                  /* a connection idle this long is closed */
    unsigned threads;                    /* polling threads */
};

struct exporter;

/* Serves GET/HEAD /metrics and / on listen_fd (a listening socket, see listen_addr.h). NULL
 * (after a message on stderr) when libmicrohttpd cannot start. */
struct exporter *exporter_start(int listen_fd, const struct exporter_config *cfg);
/* Stops serving and closes every connection and the listening socket. */
void exporter_stop(struct exporter *e);

#endif
