/* The pieces of the node service that are not the daemon: the sealed limits table, a ledger
 * mapped from a sealed descriptor, and the socket protocol with its time bound. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/node_client.h"
#include "policy/node_limits.h"
#include "policy/node_owners.h"
#include "policy/node_wire.h"

#define UUID0 "GPU-e220a839-7b1d-4daf-910a-475245590000"

static struct grey_node_limits sample_limits(void)
{
    struct grey_node_limits l;
    grey_node_limits_init(&l);
    l.nrows = 1;
    snprintf(l.row[0].uuid, sizeof l.row[0].uuid, "%s", UUID0);
    l.row[0].budget = 1u << 30;
    l.row[0].process_cap = 512u << 20;
    return l;
}

static int memfd_with(const void *data, size_t size, unsigned seals)
{
    int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, (off_t)size), 0);
    if (data)
        cr_assert_eq(pwrite(fd, data, size, 0), (ssize_t)size);
    if (seals)
        cr_assert_eq(fcntl(fd, F_ADD_SEALS, (int)seals), 0);
    return fd;
}

Test(node_limits, validation_trusts_nothing)
{
    char err[256];
    struct grey_node_limits l = sample_limits();
    cr_assert_eq(grey_node_limits_validate(&l, sizeof l, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grey_node_limits_validate(&l, sizeof l - 1, err, sizeof err), -1);
    struct grey_node_limits bad = l;
    bad.magic[0] = 'X';
    cr_assert_eq(grey_node_limits_validate(&bad, sizeof bad, err, sizeof err), -1);
    cr_assert_str_eq(err, "limits: bad magic");
    bad = l;
    bad.nrows = GREY_MAX_DEVICES + 1;
    cr_assert_eq(grey_node_limits_validate(&bad, sizeof bad, err, sizeof err), -1, "a row count past the table");
    bad = l;
    memset(bad.row[0].uuid, 'A', sizeof bad.row[0].uuid);
    cr_assert_eq(grey_node_limits_validate(&bad, sizeof bad, err, sizeof err), -1, "an unterminated UUID");
}

Test(node_limits, rows_are_found_by_uuid_only)
{
    struct grey_node_limits l = sample_limits();
    cr_assert_eq(grey_node_limits_find(&l, UUID0), 0);
    cr_assert_eq(grey_node_limits_find(&l, "gpu-E220A839-7B1D-4DAF-910A-475245590000"), 0, "case does not matter");
    cr_assert_eq(grey_node_limits_find(&l, "GPU-00000000-7b1d-4daf-910a-475245590000"), -1);
    cr_assert_eq(grey_node_limits_find(&l, ""), -1, "a GPU without a UUID matches no row");
}

Test(node_limits, only_a_file_sealed_against_writing_is_read)
{
    char err[256];
    struct grey_node_limits l = sample_limits(), got;
    int open_fd = memfd_with(&l, sizeof l, F_SEAL_SHRINK | F_SEAL_GROW);
    cr_assert_eq(grey_node_limits_read(open_fd, &got, err, sizeof err), -1, "writable limits prove nothing");
    cr_assert(strstr(err, "not sealed against writing"), "%s", err);
    int fd = memfd_with(&l, sizeof l, grey_node_limits_seals());
    cr_assert_eq(grey_node_limits_read(fd, &got, err, sizeof err), 0, "%s", err);
    cr_assert_eq(memcmp(&got, &l, sizeof l), 0);
    cr_assert_neq(pwrite(fd, "X", 1, 0), 1, "the seal forbids writes");
    close(open_fd);
    close(fd);
}

static int sealed_ledger(unsigned seals)
{
    int fd = memfd_with(NULL, GREY_LEDGER_TOTAL_SIZE, 0);
    void *base = mmap(NULL, GREY_LEDGER_TOTAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_neq(base, MAP_FAILED);
    grey_ledger_format(base);
    munmap(base, GREY_LEDGER_TOTAL_SIZE);
    if (seals)
        cr_assert_eq(fcntl(fd, F_ADD_SEALS, (int)seals), 0);
    return fd;
}

/* An owners table as the service makes it: mapped writable first, then sealed against any
 * further write. Returns the descriptor; *writer (when not NULL) keeps the service's mapping. */
static int owners_file(struct grey_node_owners **writer)
{
    int fd = memfd_with(NULL, sizeof(struct grey_node_owners), 0);
    struct grey_node_owners *t =
        mmap(NULL, sizeof *t, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    cr_assert_neq(t, MAP_FAILED);
    grey_node_owners_init(t);
    cr_assert_eq(fcntl(fd, F_ADD_SEALS, (int)grey_node_owners_seals()), 0);
    if (writer)
        *writer = t;
    else
        munmap(t, sizeof *t);
    return fd;
}

static int sealed_owners(void) { return owners_file(NULL); }

Test(node_owners, a_slot_is_bounded_only_when_vouched_for)
{
    struct grey_node_owners *t = malloc(sizeof *t);
    cr_assert_not_null(t);
    grey_node_owners_init(t);
    cr_assert_eq(grey_node_owners_weight(NULL, 3, 100, 7, 0, 1000), 1000, "no service: the slot's weight as it is");
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 0, 1000), GREY_NODE_UNVOUCHED_WEIGHT,
                 "an entry the service has not written vouches for nobody");
    struct grey_node_owner_fields f = {.state = GREY_OWNER_KNOWN, .pid = 100, .start_time = 7, .uid = 1000};
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        f.ceiling[r] = 3;
    f.ceiling[1] = 2;
    grey_node_owners_publish(t, 3, &f);
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 0, 1000), 3, "raised in the ledger: the ceiling applies");
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 1, 1000), 2, "per row");
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 0, 2), 2, "lowered by the user: the user's");
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 0, 0), 1, "0 counts as 1");
    cr_assert_eq(grey_node_owners_weight(t, 3, 101, 7, 0, 1000), 1, "a pid the entry is not about: weight 1");
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 8, 0, 1000), 1, "nor another start time");
    cr_assert_eq(grey_node_owners_weight(t, 4, 100, 7, 0, 1000), 1, "the entry is one slot's, not a pid's");
    cr_assert_eq(grey_node_owners_weight(t, GREY_LEDGER_SLOTS, 100, 7, 0, 1000), 1);
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, GREY_MAX_DEVICES, 1000), 1);
    atomic_fetch_add(&t->slot[3].seq, 1); /* the service is half way through rewriting it */
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 0, 1000), 1, "an entry being rewritten vouches for nobody");
    atomic_fetch_add(&t->slot[3].seq, 1);
    f.state = GREY_OWNER_HIDDEN;
    grey_node_owners_publish(t, 3, &f);
    cr_assert_eq(grey_node_owners_weight(t, 3, 100, 7, 0, 1000), 1, "a hidden holder: weight 1");
    free(t);
}

Test(node_owners, the_file_is_written_by_the_service_alone)
{
    struct grey_node_owners *writer;
    int fd = owners_file(&writer);
    size_t size = sizeof *writer;
    const struct grey_node_owners *reader;
    char err[256];
    cr_assert_eq(grey_node_owners_map(fd, &reader, err, sizeof err), 0, "%s", err);
    cr_assert_neq(pwrite(fd, "X", 1, 0), 1, "no write()");
    cr_assert_eq(mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), MAP_FAILED, "no writable mapping");
    cr_assert_neq(mprotect((void *)reader, size, PROT_READ | PROT_WRITE), 0, "no mprotect to writable");
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int again = open(self, O_RDWR | O_CLOEXEC);
    if (again >= 0) {
        cr_assert_neq(pwrite(again, "X", 1, 0), 1, "no write through a reopened descriptor");
        close(again);
    }
    int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    if (mem >= 0) {
        char x = 'X';
        cr_assert_neq(pwrite(mem, &x, 1, (off_t)(uintptr_t)reader), 1, "no write through /proc/self/mem");
        close(mem);
    }
    cr_assert_neq(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096), 0, "no hole punched");
    cr_assert_neq(ftruncate(fd, 0), 0, "no truncation");
    cr_assert_eq(memcmp(reader->magic, GREY_NODE_OWNERS_MAGIC, 8), 0, "all of that left it as it was");
    struct grey_node_owner_fields f = {.state = GREY_OWNER_KNOWN, .pid = 5, .start_time = 9};
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        f.ceiling[r] = 4;
    grey_node_owners_publish(writer, 0, &f);
    cr_assert_eq(grey_node_owners_weight(reader, 0, 5, 9, 0, 10), 4, "the service's mapping still writes, and "
                                                                     "readers see it");
    munmap((void *)reader, size);
    munmap(writer, size);
    close(fd);
}

Test(node_owners, a_file_others_could_write_is_refused)
{
    const struct grey_node_owners *t;
    char err[256];
    struct grey_node_owners *plain = calloc(1, sizeof *plain);
    cr_assert_not_null(plain);
    grey_node_owners_init(plain);
    int fd = memfd_with(plain, sizeof *plain, 0);
    cr_assert_eq(grey_node_owners_map(fd, &t, err, sizeof err), -1);
    cr_assert(strstr(err, "not sealed against writing"), "%s", err);
    close(fd);
    fd = memfd_with(plain, sizeof *plain - 8, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
    cr_assert_eq(grey_node_owners_map(fd, &t, err, sizeof err), -1, "a table of the wrong size");
    close(fd);
    plain->version = 99;
    fd = memfd_with(plain, sizeof *plain, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE);
    cr_assert_eq(grey_node_owners_map(fd, &t, err, sizeof err), -1);
    cr_assert(strstr(err, "layout version 99"), "%s", err);
    close(fd);
    free(plain);
}

Test(ledger_fd, an_unsealed_ledger_is_refused)
{
    char err[256];
    struct grey_ledger lg;
    int fd = sealed_ledger(0);
    cr_assert_eq(grey_ledger_open_fd(fd, "test", &lg, err, sizeof err), -1);
    cr_assert(strstr(err, "not sealed against truncation"), "%s", err);
    close(fd);
    fd = sealed_ledger(grey_node_ledger_seals() | F_SEAL_WRITE);
    cr_assert_eq(grey_ledger_open_fd(fd, "test", &lg, err, sizeof err), -1, "a ledger nobody can write is no use");
    close(fd);
}

Test(ledger_fd, a_sealed_ledger_keeps_lock_liveness_per_description)
{
    char err[256];
    struct grey_ledger a, b;
    int fd = sealed_ledger(grey_node_ledger_seals());
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    int fd2 = open(self, O_RDWR | O_CLOEXEC); /* what the service does for each client */
    cr_assert_geq(fd2, 0);
    cr_assert_eq(grey_ledger_open_fd(fd, "a", &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(grey_ledger_open_fd(fd2, "b", &b, err, sizeof err), 0, "%s", err);
    cr_assert_neq(ftruncate(fd, 0), 0, "nobody can truncate it");
    struct grey_slot *s = grey_ledger_claim(&a, getpid(), 1, 0, 0, 0, "a");
    cr_assert_not_null(s);
    cr_assert_not(grey_ledger_slot_dead(&b, grey_slot_index(&a, s)), "b sees a's slot alive: a holds its lock");
    cr_assert_eq(grey_ledger_new_description(&a), 0, "a fork child reopens the memory file");
    cr_assert(grey_ledger_slot_dead(&b, grey_slot_index(&a, s)), "the old description and its lock are gone");
    grey_ledger_close(&a);
    grey_ledger_close(&b);
}

/* ---------------------------------------------------------------- the socket */

struct server {
    char path[108];
    int listen_fd;
    enum { ANSWER_OK, ANSWER_REFUSE, ANSWER_NEVER } how;
};

static void *serve_once(void *arg)
{
    struct server *sv = arg;
    int c = accept(sv->listen_fd, NULL, NULL);
    if (c < 0)
        return NULL;
    if (sv->how == ANSWER_NEVER) {
        sleep(2);
    } else if (grey_node_request_read(c, 1000) == 0) {
        struct grey_node_limits l = sample_limits();
        int fds[GREY_NODE_FDS] = {sealed_ledger(grey_node_ledger_seals()),
                                  memfd_with(&l, sizeof l, grey_node_limits_seals()), sealed_owners()};
        if (sv->how == ANSWER_OK)
            grey_node_answer_send(c, GREY_NODE_OK, "", fds, GREY_NODE_FDS);
        else
            grey_node_answer_send(c, GREY_NODE_REFUSED, "uid 1 is not in the ledger_group 'gpu'", NULL, 0);
        for (int i = 0; i < GREY_NODE_FDS; i++)
            close(fds[i]);
    }
    close(c);
    return NULL;
}

static void start_server(struct server *sv, pthread_t *t)
{
    snprintf(sv->path, sizeof sv->path, "/tmp/grey-test-noded-%d.sock", (int)getpid());
    unlink(sv->path);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sv->path);
    sv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert_eq(bind(sv->listen_fd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(sv->listen_fd, 4), 0);
    pthread_create(t, NULL, serve_once, sv);
}

static void stop_server(struct server *sv, pthread_t t)
{
    pthread_join(t, NULL);
    close(sv->listen_fd);
    unlink(sv->path);
}

Test(node_wire, the_ledger_and_limits_arrive_sealed)
{
    if (geteuid() != 0)
        cr_skip_test("the client believes only a root peer");
    struct server sv = {.how = ANSWER_OK};
    pthread_t t;
    start_server(&sv, &t);
    struct grey_ledger lg;
    struct grey_node_limits l;
    const struct grey_node_owners *owners = NULL;
    char err[256];
    cr_assert_eq(grey_node_ledger_open(sv.path, GREY_NODE_TIMEOUT_MS, &lg, &l, &owners, err, sizeof err), 0, "%s",
                 err);
    cr_assert_eq(grey_node_limits_find(&l, UUID0), 0);
    cr_assert_eq(l.row[0].process_cap, 512u << 20);
    cr_assert(lg.writable);
    cr_assert_not_null(owners, "the owners table is mapped");
    cr_assert_eq(owners->slot[0].state, GREY_OWNER_NONE);
    grey_ledger_close(&lg);
    stop_server(&sv, t);
}

Test(node_wire, a_refusal_says_why)
{
    if (geteuid() != 0)
        cr_skip_test("the client believes only a root peer");
    struct server sv = {.how = ANSWER_REFUSE};
    pthread_t t;
    start_server(&sv, &t);
    int fds[GREY_NODE_FDS];
    char err[256];
    cr_assert_eq(grey_node_fetch(sv.path, GREY_NODE_TIMEOUT_MS, fds, err, sizeof err), -1);
    cr_assert(strstr(err, "refused: uid 1 is not in the ledger_group 'gpu'"), "%s", err);
    cr_assert_eq(fds[GREY_NODE_FD_LEDGER], -1);
    stop_server(&sv, t);
}

Test(node_wire, no_service_and_a_silent_one_are_bounded_in_time)
{
    int fds[GREY_NODE_FDS];
    char err[256];
    cr_assert_eq(grey_node_fetch("/nonexistent/noded.sock", GREY_NODE_TIMEOUT_MS, fds, err, sizeof err), -1);
    cr_assert(strstr(err, "not running"), "%s", err);
    if (geteuid() != 0)
        return;
    struct server sv = {.how = ANSWER_NEVER};
    pthread_t t;
    start_server(&sv, &t);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cr_assert_eq(grey_node_fetch(sv.path, 50, fds, err, sizeof err), -1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert(strstr(err, "no answer within 50 ms"), "%s", err);
    cr_assert_lt(s, 1.0, "the wait is bounded (%.3f s)", s);
    stop_server(&sv, t);
}
