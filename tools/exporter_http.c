/* grey-exporter's HTTP side (exporter_http.h). */
#include "exporter_http.h"

#include <limits.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "ledger_view.h"

#define CONNECTION_MEMORY (32 * 1024) /* a request head larger than this is refused (431) */

struct exporter {
    struct MHD_Daemon *daemon;
    struct exporter_config cfg;
    char *landing;                     /* the page at / */
    size_t landing_len;
    pthread_mutex_t render_lock;       /* one scrape renders at a time: the view is big (static) */
};

static enum MHD_Result send_buffer(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                                   size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    return send_buffer(c, status, "text/plain; charset=utf-8", text, strlen(text), MHD_RESPMEM_PERSISTENT);
}

/* The metrics, from the ledger as it is now (dead processes reclaimed first, like grey-top). */
static enum MHD_Result send_metrics(struct exporter *e, struct MHD_Connection *c)
{
    static struct grey_view v;
    char err[PATH_MAX + 256];
    char *body = NULL;
    size_t len = 0;
    pthread_mutex_lock(&e->render_lock);
    const char *shown;
    int loaded = ledger_choice_load(e->cfg.ledger, true, &v, &shown, err, sizeof err);
    int rendered = -1;
    if (loaded == 0) {
        grey_view_name_users(&v);
        FILE *f = open_memstream(&body, &len);
        if (f) {
            rendered = grey_metrics_write(f, &v, &e->cfg.metrics);
            if (fclose(f) != 0)
                rendered = -1;
        }
    }
    pthread_mutex_unlock(&e->render_lock);
    if (loaded != 0) {
        strcat(err, "\n");
        char *copy = strdup(err);
        return copy ? send_buffer(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", copy, strlen(copy),
                                  MHD_RESPMEM_MUST_FREE)
                    : MHD_NO;
    }
    if (rendered != 0) {
        free(body);
        return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render the metrics\n");
    }
    /* MUST_FREE: libmicrohttpd frees body with free() once sent (open_memstream's malloc). */
    return send_buffer(c, MHD_HTTP_OK, GREY_METRICS_CONTENT_TYPE, body, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    struct exporter *e = cls;
    /* HEAD is answered as GET; libmicrohttpd leaves the body out. */
    bool readable = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    bool known = strcmp(url, "/metrics") == 0 || strcmp(url, "/") == 0;
    if (!known)
        return send_text(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
    if (!readable)
        return send_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (strcmp(url, "/") == 0)
        return send_buffer(c, MHD_HTTP_OK, "text/html; charset=utf-8", e->landing, e->landing_len,
                           MHD_RESPMEM_PERSISTENT);
    return send_metrics(e, c);
}

/* A page for whoever opens the address in a browser: what this is and where the metrics are. */
static int make_landing(struct exporter *e)
{
    FILE *f = open_memstream(&e->landing, &e->landing_len);
    if (!f)
        return -1;
    fprintf(f,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>grey-exporter</title></head>\n"
            "<body>\n<h1>grey-exporter</h1>\n"
            "<p>GPU memory caps, budgets and fair share of the hooked processes on this node, from the grey "
            "ledger, for Prometheus.</p>\n"
            "<p><a href=\"/metrics\">Metrics</a></p>\n"
            "<p>grey %s%s</p>\n</body></html>\n",
            cli_version_string(), e->cfg.metrics.per_process ? "; per-process series on" : "");
    return fclose(f) == 0 ? 0 : -1;
}

/* libmicrohttpd's messages, at most one a second: it says one line per connection refused at
 * the limit, and whoever fills the limit must not fill the journal too. */
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static time_t last;
    static unsigned long dropped;
    time_t now = time(NULL);
    pthread_mutex_lock(&lock);
    if (now == last) {
        dropped++;
    } else {
        last = now;
        if (dropped)
            fprintf(stderr, "grey-exporter: libmicrohttpd: (%lu more messages dropped)\n", dropped);
        dropped = 0;
        fputs("grey-exporter: libmicrohttpd: ", stderr);
        vfprintf(stderr, fmt, ap);
    }
    pthread_mutex_unlock(&lock);
}

struct exporter *exporter_start(int listen_fd, const struct exporter_config *cfg)
{
    struct exporter *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->cfg = *cfg;
    pthread_mutex_init(&e->render_lock, NULL);
    if (make_landing(e) != 0) {
        free(e->landing);
        free(e);
        return NULL;
    }
    e->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, e, MHD_OPTION_EXTERNAL_LOGGER,
        log_mhd, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)cfg->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_END);
    if (!e->daemon) {
        fputs("grey-exporter: libmicrohttpd cannot start a server on the socket\n", stderr);
        free(e->landing);
        free(e);
        return NULL;
    }
    return e;
}

void exporter_stop(struct exporter *e)
{
    if (!e)
        return;
    MHD_stop_daemon(e->daemon);
    pthread_mutex_destroy(&e->render_lock);
    free(e->landing);
    free(e);
}
