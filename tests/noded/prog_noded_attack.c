/* What a member of the node's group can do with what grey-noded hands out, tried for real
 * (tests/noded/run.sh runs it as such a member): it asks the service for the ledger and limits
 * like any hooked process would, then attacks them.
 *
 *   prog_noded_attack SOCKET seals      every attack on the files themselves, one line each:
 *                                       "NAME refused" or "NAME SUCCEEDED"
 *   prog_noded_attack SOCKET raise      rewrites every budget in the (writable) ledger header
 *                                       and every slot's cap to "no limit"; prints "raised"
 *   prog_noded_attack SOCKET forget     sets every device total to 0 (bytes the slots still
 *                                       hold); prints "forgotten"
 *
 * Exit status: 0 when it could ask (whatever the attacks did), 1 when the service gave nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/node_limits.h"
#include "policy/node_wire.h"

static void say(const char *name, int rc)
{
    printf("%s %s\n", name, rc == 0 ? "SUCCEEDED" : "refused");
}

static int reopen_write(int fd)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int w = open(path, O_RDWR);
    if (w < 0)
        return -1; /* not even reopened writable */
    char zero[8] = {0};
    ssize_t n = pwrite(w, zero, sizeof zero, 0); /* the magic */
    close(w);
    return n == (ssize_t)sizeof zero ? 0 : -1;
}

static int map_write(int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    munmap(p, size);
    return 0;
}

static int map_then_mprotect(int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    int rc = mprotect(p, size, PROT_READ | PROT_WRITE);
    munmap(p, size);
    return rc;
}

static int seals(int ledger, int limits)
{
    size_t total = GREY_LEDGER_TOTAL_SIZE, lsize = sizeof(struct grey_node_limits);
    say("ledger-truncate", ftruncate(ledger, 0));
    say("ledger-grow", ftruncate(ledger, (off_t)total * 2));
    say("ledger-unseal-seal-write", fcntl(ledger, F_ADD_SEALS, F_SEAL_WRITE));
    say("limits-write", pwrite(limits, "X", 1, 0) == 1 ? 0 : -1);
    say("limits-map-write", map_write(limits, lsize));
    say("limits-mprotect-write", map_then_mprotect(limits, lsize));
    say("limits-reopen-write", reopen_write(limits));
    say("limits-truncate", ftruncate(limits, 0));
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", ledger);
    char target[256] = "";
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    /* A memory file's name is "/memfd:NAME (deleted)": there is no path to open or truncate. */
    printf("ledger-path %s\n", strncmp(target, "/memfd:", 7) == 0 ? "none" : target);
    return 0;
}

static int raise_all(int ledger)
{
    struct grey_ledger lg;
    char err[256];
    if (grey_ledger_open_fd(ledger, "attack", &lg, err, sizeof err) != 0) {
        fprintf(stderr, "prog_noded_attack: %s\n", err);
        return 1;
    }
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&lg.header->device_budget[d], UINT64_MAX);
    for (uint32_t i = 0; i < lg.nslots; i++)
        for (int d = 0; d < GREY_MAX_DEVICES; d++)
            atomic_store(&lg.slots[i].dev[d].cap, UINT64_MAX);
    printf("raised\n");
    return 0;
}

static int forget_all(int ledger)
{
    struct grey_ledger lg;
    char err[256];
    if (grey_ledger_open_fd(ledger, "attack", &lg, err, sizeof err) != 0) {
        fprintf(stderr, "prog_noded_attack: %s\n", err);
        return 1;
    }
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        atomic_store(&lg.header->device_used[d], 0);
    printf("forgotten\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: prog_noded_attack SOCKET seals|raise|forget\n");
        return 2;
    }
    int ledger, limits;
    char err[512];
    if (grey_node_fetch(argv[1], 1000, &ledger, &limits, err, sizeof err) != 0) {
        fprintf(stderr, "prog_noded_attack: %s\n", err);
        return 1;
    }
    int rc = strcmp(argv[2], "raise") == 0    ? raise_all(ledger)
             : strcmp(argv[2], "forget") == 0 ? forget_all(ledger)
                                              : seals(ledger, limits);
    fflush(stdout);
    return rc;
}
