/* The ledger file: creation, validation of everything read from it, slot claiming. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/ledger.h"
#include "policy/procinfo.h"

static char path[256];

static void make_path(void)
{
    snprintf(path, sizeof path, "/tmp/grey-test-ledger-%d-XXXXXX", (int)getpid());
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    unlink(path); /* grey_ledger_open creates it */
}

static void write_file(const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

Test(ledger, created_private_and_valid)
{
    make_path();
    struct grey_ledger lg;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0, "%s", err);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "the default ledger is private to its user");
    cr_assert_eq(lg.nslots, GREY_LEDGER_SLOTS);
    cr_assert_eq(grey_ledger_validate(lg.header, lg.map_size, err, sizeof err), 0);
    grey_ledger_close(&lg);
    /* Reopened, it is the same valid ledger, not re-initialized. */
    cr_assert_eq(grey_ledger_open(path, false, &lg, err, sizeof err), 0, "%s", err);
    grey_ledger_close(&lg);
    unlink(path);
}

Test(ledger, refuses_other_versions_truncation_and_garbage)
{
    make_path();
    struct grey_ledger lg;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0);
    size_t size = lg.map_size;
    char *copy = malloc(size);
    memcpy(copy, lg.header, size);
    grey_ledger_close(&lg);

    ((struct grey_ledger_header *)copy)->version = 7;
    write_file(copy, size);
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), -1);
    cr_assert(strstr(err, "layout version 7"), "message was: %s", err);

    ((struct grey_ledger_header *)copy)->version = GREY_LEDGER_VERSION;
    write_file(copy, size / 2);
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated"), "message was: %s", err);

    memset(copy, 0xA5, size);
    write_file(copy, size);
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), -1);
    cr_assert(strstr(err, "not a grey ledger"), "message was: %s", err);

    memset(copy, 0, size);
    write_file(copy, size);
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), -1, "a zeroed file is not a ledger");

    write_file(copy, 10);
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), -1);
    cr_assert(strstr(err, "truncated"), "message was: %s", err);

    cr_assert_eq(grey_ledger_validate(copy, 0, err, sizeof err), -1);
    free(copy);
    unlink(path);
}

Test(ledger, claim_fills_owner_and_resets_counters)
{
    make_path();
    struct grey_ledger lg;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0);
    uint64_t start;
    cr_assert_eq(grey_proc_start_time(getpid(), &start), 0);
    struct grey_slot *s = grey_ledger_claim(&lg, getpid(), start, 42, getuid(), "train.py");
    cr_assert_not_null(s);
    cr_assert_eq(atomic_load(&s->state), GREY_SLOT_ACTIVE);
    cr_assert_eq(s->run_id, 42);
    cr_assert_str_eq(s->command, "train.py");
    cr_assert_eq(atomic_load(&s->dev[3].cap), UINT64_MAX);
    atomic_store(&s->dev[0].used, 99);

    /* The same pid and start time again is this process after exec: the old slot is retired. */
    struct grey_slot *again = grey_ledger_claim(&lg, getpid(), start, 42, getuid(), "train.py");
    cr_assert_not_null(again);
    cr_assert_neq(again, s);
    cr_assert_eq(atomic_load(&s->state), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&again->dev[0].used), 0);
    grey_ledger_close(&lg);
    unlink(path);
}

Test(ledger, full_ledger_recycles_dead_owners_only)
{
    make_path();
    struct grey_ledger lg;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0);
    uint64_t start;
    grey_proc_start_time(getpid(), &start);
    /* Fill every slot with a live owner (ourselves, different fake start times would be dead,
     * so use the real one and distinct run ids). */
    for (uint32_t i = 0; i < lg.nslots; i++) {
        struct grey_slot *s = &lg.slots[i];
        s->pid = getpid();
        s->start_time = start;
        s->run_id = 0;
        atomic_store(&s->state, GREY_SLOT_ACTIVE);
    }
    cr_assert_null(grey_ledger_claim(&lg, 1, 1, 0, 0, "x"), "no slot may be taken from a live owner");

    /* A child that dies without cleaning up leaves a slot a new claimer may recycle. */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    uint64_t child_start = 0;
    for (int tries = 0; tries < 100 && grey_proc_start_time(child, &child_start) != 0; tries++)
        usleep(1000);
    lg.slots[17].pid = child;
    lg.slots[17].start_time = child_start;
    cr_assert(!grey_slot_owner_dead(&lg.slots[17]));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert(grey_slot_owner_dead(&lg.slots[17]));
    struct grey_slot *s = grey_ledger_claim(&lg, 12345, 1, 0, 0, "new");
    cr_assert_eq(s, &lg.slots[17]);
    grey_ledger_close(&lg);
    unlink(path);
}

Test(ledger, run_ids_name_their_grey_run)
{
    uint64_t start;
    grey_proc_start_time(getpid(), &start);
    uint64_t id = grey_run_id_make(getpid(), start);
    cr_assert_not(grey_run_id_owner_dead(id));
    cr_assert(grey_run_id_owner_dead(grey_run_id_make(getpid(), start + 1)));
    cr_assert(grey_run_id_owner_dead(0));
}
