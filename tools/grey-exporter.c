/* grey-exporter: the ledger's metrics over HTTP, for a Prometheus server to scrape.
 *
 *   grey-exporter --listen 127.0.0.1:9400 [--ledger FILE]
 *
 * GET /metrics answers with exactly what grey-top --prometheus prints (tools/metrics.c), read
 * fresh from the ledger for every scrape; any other path is 404. Plain HTTP/1.1, one request per
 * connection, one connection at a time with a short timeout: a scrape every few seconds needs no
 * more, and nothing here can be made to grow. SIGTERM or SIGINT stops it (exit 0). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "policy/ledger_path.h"
#include "policy/plan.h"
#include "cli_common.h"
#include "ledger_view.h"
#include "metrics.h"

#define PROG "grey-exporter"
#define REQUEST_MAX 8192   /* bytes of request head we read; more is refused */
#define CLIENT_TIMEOUT_S 2 /* a client that sends nothing cannot hold the loop longer */

static const char usage_text[] =
    "usage: grey-exporter --listen HOST:PORT [--ledger FILE]\n"
    "\n"
    "Serves the ledger's metrics (the same text as grey-top --prometheus) at\n"
    "http://HOST:PORT/metrics. PORT 0 picks a free port; the address is printed on stderr.\n"
    "\n"
    "options:\n"
    "  --listen HOST:PORT  address to listen on, e.g. 127.0.0.1:9400 or [::1]:9400\n"
    "  --ledger FILE       the ledger (default: the admin plan's ledger, else $GREY_LEDGER,\n"
    "                      else /dev/shm/grey-UID.ledger)\n"
    "  -h, --help          this text\n"
    "  --version           print grey's version\n"
    "\n"
    "SIGTERM or SIGINT stops it. exit status: 0 stopped by a signal, 1 cannot listen, 2 usage.\n";

static volatile sig_atomic_t stop;
static void on_stop(int sig) { (void)sig; stop = 1; }

/* ------------------------------------------------------------------ listening */

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static int split_address(const char *text, char *host, size_t hlen, char *port, size_t plen)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || !colon[1])
        return -1;
    const char *h = text;
    size_t n = (size_t)(colon - text);
    if (h[0] == '[') {
        if (n < 3 || h[n - 1] != ']')
            return -1;
        h++;
        n -= 2;
    }
    if (n >= hlen || strlen(colon + 1) >= plen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    snprintf(port, plen, "%s", colon + 1);
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    return 0;
}

/* The listening socket, or -CLI_EXIT_USAGE / -CLI_EXIT_FAIL after saying why. */
static int listen_on(const char *address, char *shown, size_t shownlen)
{
    char host[256], port[16];
    if (split_address(address, host, sizeof host, port, sizeof port) != 0)
        return -cli_usage_error(PROG, "--listen: '%s' is not HOST:PORT", address);
    struct addrinfo hints, *res;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return -cli_error(PROG, "--listen %s: %s", address, gai_strerror(rc));
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -cli_error(PROG, "cannot listen on %s: %s", address, strerror(err));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    char h[NI_MAXHOST], p[NI_MAXSERV];
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 &&
        getnameinfo((struct sockaddr *)&ss, len, h, sizeof h, p, sizeof p, NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(shown, shownlen, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h, p);
    else
        snprintf(shown, shownlen, "%s", address);
    return fd;
}

/* ------------------------------------------------------------------ one request */

static void send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client went away; nothing to tell anyone */
        buf += n;
        len -= (size_t)n;
    }
}

static void respond(int fd, const char *status, const char *type, const char *extra, const char *body,
                    size_t len, bool head_only)
{
    char head[512];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n", status,
                     type, len, extra);
    send_all(fd, head, (size_t)n);
    if (!head_only)
        send_all(fd, body, len);
}

static void respond_text(int fd, const char *status, const char *extra, const char *text, bool head_only)
{
    respond(fd, status, "text/plain; charset=utf-8", extra, text, strlen(text), head_only);
}

/* The metrics page: the ledger read now (dead processes reclaimed first, like grey-top). */
static void serve_metrics(int fd, const char *ledger, bool head_only)
{
    static struct grey_view v;
    char err[PATH_MAX + 256];
    if (grey_view_load(ledger, true, &v, err, sizeof err) != 0) {
        strcat(err, "\n");
        respond_text(fd, "503 Service Unavailable", "", err, head_only);
        return;
    }
    grey_view_name_users(&v);
    char *body = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&body, &len);
    if (!f || grey_metrics_write(f, &v) != 0 || fclose(f) != 0) {
        respond_text(fd, "500 Internal Server Error", "", "cannot render the metrics\n", head_only);
        free(body);
        return;
    }
    respond(fd, "200 OK", GREY_METRICS_CONTENT_TYPE, "", body, len, head_only);
    free(body);
}

/* Reads the request head (up to the blank line), bounded in size and time. */
static ssize_t read_head(int fd, char *buf, size_t cap)
{
    size_t have = 0;
    while (have + 1 < cap) {
        ssize_t n = recv(fd, buf + have, cap - 1 - have, 0);
        if (n < 0 && errno == EINTR && !stop)
            continue;
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
            return (ssize_t)have;
    }
    return -1;
}

static void handle(int fd, const char *ledger)
{
    struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[REQUEST_MAX];
    if (read_head(fd, req, sizeof req) < 0) {
        respond_text(fd, "400 Bad Request", "", "incomplete or oversized request\n", false);
        return;
    }
    /* Request line: METHOD SP TARGET SP HTTP/1.x */
    char method[16], target[1024], version[16];
    if (sscanf(req, "%15s %1023s %15s", method, target, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0) {
        respond_text(fd, "400 Bad Request", "", "malformed request line\n", false);
        return;
    }
    char *query = strchr(target, '?');
    if (query)
        *query = '\0';
    bool head = strcmp(method, "HEAD") == 0;
    if (strcmp(target, "/metrics") != 0) {
        respond_text(fd, "404 Not Found", "", "not found: the metrics are at /metrics\n", head);
        return;
    }
    if (!head && strcmp(method, "GET") != 0) {
        respond_text(fd, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "only GET and HEAD\n", false);
        return;
    }
    serve_metrics(fd, ledger, head);
}

/* ------------------------------------------------------------------ main */

static void default_ledger(char *buf, size_t len)
{
    static struct grey_plan admin;
    const struct grey_plan *list[1] = {&admin};
    char err[512];
    int rc = grey_plan_load_admin(cli_settings()->admin_plan, &admin, err, sizeof err);
    if (rc < 0)
        cli_warn(PROG, "%s (ignored when choosing the ledger)", err);
    const char *group;
    grey_ledger_choose_path(list, rc > 0 ? 1 : 0, cli_settings()->ledger, buf, len, &group);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'L'}, {"ledger", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *address = NULL, *ledger_opt = NULL;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'L':
            address = optarg;
            break;
        case 'l':
            ledger_opt = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return CLI_EXIT_OK;
        case 'V':
            cli_print_version(PROG);
            return CLI_EXIT_OK;
        case ':':
            return cli_usage_error(PROG, "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error(PROG, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
    if (!address)
        return cli_usage_error(PROG, "--listen HOST:PORT is required");

    char ledger[PATH_MAX];
    if (ledger_opt)
        snprintf(ledger, sizeof ledger, "%s", ledger_opt);
    else
        default_ledger(ledger, sizeof ledger);

    char shown[300];
    int lfd = listen_on(address, shown, sizeof shown);
    if (lfd < 0)
        return -lfd;

    /* Signals are blocked except inside ppoll, so a SIGTERM can never slip in between the check
     * of `stop` and the wait. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block, open_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &open_mask);
    sigdelset(&open_mask, SIGTERM);
    sigdelset(&open_mask, SIGINT);

    fprintf(stderr, "%s: serving http://%s/metrics (ledger %s)\n", PROG, shown, ledger);
    while (!stop) {
        struct pollfd pfd = {.fd = lfd, .events = POLLIN};
        int n = ppoll(&pfd, 1, NULL, &open_mask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            close(lfd);
            return cli_error(PROG, "poll: %s", strerror(errno));
        }
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue; /* the client gave up before we took it; keep serving */
        handle(cfd, ledger);
        close(cfd);
    }
    close(lfd);
    fprintf(stderr, "%s: stopped\n", PROG);
    return CLI_EXIT_OK;
}
