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
 *   prog_noded_attack SOCKET|LEDGER weight PID W SECONDS
 *                                       for SECONDS, every 10 ms, sets the fair-share weight of
 *                                       PID's slot to W on every GPU row it uses (in the service's
 *                                       ledger, or in the ledger file LEDGER without it); prints
 *                                       "rewrote slot N: weight A -> W" when it first does, and at
 *                                       the end "landed slot N weight W (read back K times)" when
 *                                       later looks found it still there (the rewrite really is
 *                                       in the ledger, and nothing put it back)
 *   prog_noded_attack SOCKET owner PID SECONDS
 *                                       waits up to SECONDS for the service to vouch for the slot
 *                                       whose pid says PID (as its own PID namespace numbers it),
 *                                       then prints its owners entry: "owner slot N known uid U
 *                                       ceiling C weight W" (row 0; W: what the pacers use), or
 *                                       "owner slot N hidden|none"
 *   prog_noded_attack SOCKET forge PID SECONDS
 *                                       claims a slot like a hooked process, publishes weight 1000
 *                                       on row 0 and rewrites the slot's pid and start time to
 *                                       PID's (another user's job, say); waits up to SECONDS for
 *                                       the service to vouch for the slot, then prints its owners
 *                                       entry as owner does
 *   prog_noded_attack SOCKET hide SECONDS
 *                                       claims a slot like a hooked process, then closes its
 *                                       descriptor of the ledger and keeps only the mapping (which
 *                                       keeps the description and the slot's lock alive, seen in
 *                                       no process's descriptors); prints "hiding slot N pid P",
 *                                       waits SECONDS, then prints the slot's owners entry as owner
 *                                       does
 *
 * Exit status: 0 when it could ask (whatever the attacks did), 1 when the service gave nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/node_limits.h"
#include "policy/node_owners.h"
#include "policy/node_wire.h"
#include "policy/procinfo.h"

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

static int write_via_proc_mem(int fd, size_t size)
{
    void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -1;
    int mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
    char x = 'X';
    int rc = mem >= 0 && pwrite(mem, &x, 1, (off_t)(uintptr_t)p) == 1 ? 0 : -1;
    if (mem >= 0)
        close(mem);
    munmap(p, size);
    return rc;
}

static int seals(int ledger, int limits, int owners)
{
    size_t total = GREY_LEDGER_TOTAL_SIZE, lsize = sizeof(struct grey_node_limits);
    size_t osize = sizeof(struct grey_node_owners);
    say("ledger-truncate", ftruncate(ledger, 0));
    say("ledger-grow", ftruncate(ledger, (off_t)total * 2));
    say("ledger-unseal-seal-write", fcntl(ledger, F_ADD_SEALS, F_SEAL_WRITE));
    say("limits-write", pwrite(limits, "X", 1, 0) == 1 ? 0 : -1);
    say("limits-map-write", map_write(limits, lsize));
    say("limits-mprotect-write", map_then_mprotect(limits, lsize));
    say("limits-reopen-write", reopen_write(limits));
    say("limits-truncate", ftruncate(limits, 0));
    say("owners-write", pwrite(owners, "X", 1, 0) == 1 ? 0 : -1);
    say("owners-map-write", map_write(owners, osize));
    say("owners-mprotect-write", map_then_mprotect(owners, osize));
    say("owners-reopen-write", reopen_write(owners));
    say("owners-proc-mem-write", write_via_proc_mem(owners, osize));
    say("owners-punch-hole", fallocate(owners, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    say("owners-truncate", ftruncate(owners, 0));
    say("owners-unseal-seal-write", fcntl(owners, F_ADD_SEALS, F_SEAL_WRITE));
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

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* PID's live slot in the ledger at h, or NULL. */
static struct grey_slot *slot_of(struct grey_ledger_header *h, pid_t pid)
{
    struct grey_slot *slots = (struct grey_slot *)(h + 1);
    for (uint32_t i = 0; i < h->nslots && i < GREY_LEDGER_SLOTS; i++)
        if (grey_slot_state(&slots[i]) == GREY_SLOT_ACTIVE && __atomic_load_n(&slots[i].pid, __ATOMIC_RELAXED) == pid)
            return &slots[i];
    return NULL;
}

static int rewrite_weight(struct grey_ledger_header *h, pid_t pid, uint32_t weight, double seconds)
{
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
    struct grey_slot *slots = (struct grey_slot *)(h + 1), *last = NULL;
    unsigned read_back = 0; /* rounds that found every rewritten row still at weight */
    while (now_ns() < end) {
        struct grey_slot *s = slot_of(h, pid);
        bool rewritten = false, all_there = s != NULL && last == s;
        for (int r = 0; s && r < GREY_MAX_DEVICES; r++) {
            uint32_t was = atomic_load(&s->fair[r].weight);
            if (!was || was == weight)
                continue; /* a row it does not use, or still rewritten */
            all_there = false;
            atomic_store(&s->fair[r].weight, weight);
            if (!last)
                printf("rewrote slot %u: weight %u -> %u\n", (unsigned)(s - slots), was, weight);
            rewritten = true;
            fflush(stdout);
        }
        if (rewritten)
            last = s;
        else if (all_there)
            read_back++;
        usleep(10000);
    }
    if (last && read_back)
        printf("landed slot %u weight %u (read back %u times)\n", (unsigned)(last - slots), weight, read_back);
    return last ? 0 : 1;
}

/* The weight attack without the service: the ledger file, as any member of its group maps it. */
static int weight_in_file(const char *path, pid_t pid, uint32_t weight, double seconds)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    void *p = fd < 0 ? MAP_FAILED : mmap(NULL, GREY_LEDGER_TOTAL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    char err[256];
    if (p == MAP_FAILED || grey_ledger_validate(p, GREY_LEDGER_TOTAL_SIZE, err, sizeof err) != 0) {
        fprintf(stderr, "prog_noded_attack: %s: %s\n", path, p == MAP_FAILED ? strerror(errno) : err);
        return 1;
    }
    return rewrite_weight(p, pid, weight, seconds);
}

static const char *owner_state(uint32_t state)
{
    return state == GREY_OWNER_KNOWN ? "known" : state == GREY_OWNER_HIDDEN ? "hidden" : "none";
}

static void print_owner(const struct grey_node_owners *t, struct grey_slot *slots, uint32_t i)
{
    const struct grey_node_owner *e = &t->slot[i];
    uint32_t state = atomic_load(&e->state);
    printf("owner slot %u %s", (unsigned)i, owner_state(state));
    if (state == GREY_OWNER_KNOWN)
        printf(" uid %u ceiling %u weight %u", atomic_load(&e->uid), atomic_load(&e->ceiling[0]),
               grey_node_owners_weight(t, i, __atomic_load_n(&slots[i].pid, __ATOMIC_RELAXED),
                                       __atomic_load_n(&slots[i].start_time, __ATOMIC_RELAXED), 0,
                                       atomic_load(&slots[i].fair[0].weight)));
    printf("\n");
}

static int show_owner(struct grey_ledger_header *h, const struct grey_node_owners *t, pid_t pid, double seconds)
{
    struct grey_slot *slots = (struct grey_slot *)(h + 1), *s = NULL;
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
    do {
        s = slot_of(h, pid);
        if (s && atomic_load(&t->slot[s - slots].state) == GREY_OWNER_KNOWN)
            break;
        usleep(20000);
    } while (now_ns() < end);
    if (!s) {
        printf("no slot says pid %d\n", (int)pid);
        return 1;
    }
    print_owner(t, slots, (uint32_t)(s - slots));
    return 0;
}

static struct grey_slot *claim(struct grey_ledger *lg)
{
    uint64_t start = 0;
    grey_proc_start_time(getpid(), &start);
    return grey_ledger_claim(lg, getpid(), start, grey_proc_pid_namespace(), 0, (uint32_t)getuid(), "attacker");
}

static int forge(struct grey_ledger *lg, const struct grey_node_owners *t, pid_t pid, double seconds)
{
    uint64_t start = 0;
    struct grey_slot *s = claim(lg);
    if (!s || grey_proc_start_time(pid, &start) != 0)
        return 1;
    uint32_t i = grey_slot_index(lg, s);
    atomic_store(&s->fair[0].weight, 1000);
    __atomic_store_n(&s->pid, pid, __ATOMIC_RELAXED);
    __atomic_store_n(&s->start_time, start, __ATOMIC_RELAXED);
    uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
    while (now_ns() < end && !(atomic_load(&t->slot[i].state) == GREY_OWNER_KNOWN &&
                               atomic_load(&t->slot[i].pid) == pid))
        usleep(20000);
    print_owner(t, lg->slots, i);
    return 0;
}

static int hide(struct grey_ledger *lg, const struct grey_node_owners *t, double seconds)
{
    struct grey_slot *s = claim(lg);
    if (!s)
        return 1;
    uint32_t i = grey_slot_index(lg, s);
    close(lg->fd); /* the mapping still holds the description, and with it the lock */
    lg->fd = -1;
    printf("hiding slot %u pid %d\n", (unsigned)i, (int)getpid());
    fflush(stdout);
    usleep((useconds_t)(seconds * 1e6));
    print_owner(t, lg->slots, i);
    return 0;
}

int main(int argc, char **argv)
{
    bool weight = argc == 6 && strcmp(argv[2], "weight") == 0;
    bool owner = argc == 5 && strcmp(argv[2], "owner") == 0, hiding = argc == 4 && strcmp(argv[2], "hide") == 0;
    bool forging = argc == 5 && strcmp(argv[2], "forge") == 0;
    if (argc != 3 && !weight && !owner && !hiding && !forging) {
        fprintf(stderr, "usage: prog_noded_attack SOCKET seals|raise|forget\n"
                        "       prog_noded_attack SOCKET|LEDGER weight PID W SECONDS\n"
                        "       prog_noded_attack SOCKET owner|forge PID SECONDS\n"
                        "       prog_noded_attack SOCKET hide SECONDS\n");
        return 2;
    }
    struct stat st;
    if (weight && stat(argv[1], &st) == 0 && !S_ISSOCK(st.st_mode))
        return weight_in_file(argv[1], (pid_t)atoi(argv[3]), (uint32_t)atoi(argv[4]), atof(argv[5]));
    int fds[GREY_NODE_FDS];
    char err[512];
    if (grey_node_fetch(argv[1], 1000, fds, err, sizeof err) != 0) {
        fprintf(stderr, "prog_noded_attack: %s\n", err);
        return 1;
    }
    int ledger = fds[GREY_NODE_FD_LEDGER], limits = fds[GREY_NODE_FD_LIMITS], owners = fds[GREY_NODE_FD_OWNERS];
    int rc;
    if (weight || owner || hiding || forging) {
        struct grey_ledger lg;
        const struct grey_node_owners *t;
        if (grey_ledger_open_fd(ledger, "attack", &lg, err, sizeof err) != 0 ||
            grey_node_owners_map(owners, &t, err, sizeof err) != 0) {
            fprintf(stderr, "prog_noded_attack: %s\n", err);
            return 1;
        }
        rc = weight  ? rewrite_weight(lg.header, (pid_t)atoi(argv[3]), (uint32_t)atoi(argv[4]), atof(argv[5]))
             : owner   ? show_owner(lg.header, t, (pid_t)atoi(argv[3]), atof(argv[4]))
             : forging ? forge(&lg, t, (pid_t)atoi(argv[3]), atof(argv[4]))
                       : hide(&lg, t, atof(argv[3]));
    } else {
        rc = strcmp(argv[2], "raise") == 0    ? raise_all(ledger)
             : strcmp(argv[2], "forget") == 0 ? forget_all(ledger)
                                              : seals(ledger, limits, owners);
    }
    fflush(stdout);
    return rc;
}
