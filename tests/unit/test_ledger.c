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
#include "tests/unit/ledger_locks.h"

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
    struct grey_slot *s = grey_ledger_claim(&lg, getpid(), start, 7, 42, getuid(), "train.py");
    cr_assert_not_null(s);
    cr_assert_eq(atomic_load(&s->state), GREY_SLOT_ACTIVE);
    cr_assert_eq(s->run_id, 42);
    cr_assert_eq(s->pidns, 7);
    cr_assert_str_eq(s->command, "train.py");
    cr_assert_eq(atomic_load(&s->dev[3].cap), UINT64_MAX);
    cr_assert_eq(lg.own, (int32_t)grey_slot_index(&lg, s), "the claimer holds the slot");
    cr_assert_not(grey_ledger_slot_dead(&lg, lg.own));
    atomic_store(&s->flags, GREY_SLOT_USED_GPU);
    atomic_store(&s->dev[0].used, 99);

    /* An exec closes the image's description (close-on-exec), and with it the slot's lock: the
     * same pid and start time again is this process after exec, and its old slot is retired. */
    cr_assert_eq(grey_ledger_new_description(&lg), 0);
    struct grey_slot *again = grey_ledger_claim(&lg, getpid(), start, 7, 42, getuid(), "train.py");
    cr_assert_not_null(again);
    cr_assert_neq(again, s);
    cr_assert_eq(atomic_load(&s->state), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&s->dev[0].used), 0, "the old image's bytes went back");
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
    /* Every slot held by a live owner: another open file description holds every lock. */
    int others = open(path, O_RDWR);
    for (uint32_t i = 0; i < lg.nslots; i++) {
        atomic_store(&lg.slots[i].state, GREY_SLOT_ACTIVE);
        if (i != 17)
            hold_slot_on(others, i);
    }
    /* Slot 17's owner is a real process, alive until it is killed. */
    pid_t child = holder_process(path, 17);
    cr_assert_null(grey_ledger_claim(&lg, 1, 1, 0, 0, 0, "x"), "no slot may be taken from a live owner");
    cr_assert_not(grey_ledger_slot_dead(&lg, 17));
    kill_holder(child);
    cr_assert(grey_ledger_slot_dead(&lg, 17), "the kernel released the dead owner's lock");
    struct grey_slot *s = grey_ledger_claim(&lg, 12345, 1, 0, 0, 0, "new");
    cr_assert_eq(s, &lg.slots[17]);
    close(others);
    grey_ledger_close(&lg);
    unlink(path);
}

Test(ledger, liveness_is_the_lock_not_the_pid)
{
    make_path();
    struct grey_ledger lg;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &lg, err, sizeof err), 0);
    /* Our own pid, but nobody holds the slot: a pid proves nothing (reused, or another PID
     * namespace's number). */
    struct grey_slot *s = &lg.slots[3];
    s->pid = getpid();
    atomic_store(&s->flags, GREY_SLOT_USED_GPU); /* kept for its summary once retired */
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    cr_assert(grey_ledger_slot_dead(&lg, 3));
    /* A pid that exists nowhere here, but its lock is held: alive (a process in a container). */
    s = &lg.slots[4];
    s->pid = 999999999;
    atomic_store(&s->state, GREY_SLOT_ACTIVE);
    int holder = hold_slot(path, 4);
    cr_assert_not(grey_ledger_slot_dead(&lg, 4));
    cr_assert_eq(grey_ledger_reclaim(&lg), 1, "only the unheld slot is reclaimed");
    cr_assert_eq(atomic_load(&lg.slots[3].state), GREY_SLOT_EXITED);
    cr_assert_eq(atomic_load(&lg.slots[4].state), GREY_SLOT_ACTIVE);
    close(holder);
    cr_assert_eq(grey_ledger_reclaim(&lg), 1, "once its holder is gone, it is");
    grey_ledger_close(&lg);
    unlink(path);
}

Test(ledger, run_ids_name_their_grey_run)
{
    make_path();
    struct grey_ledger run, reader;
    char err[256];
    cr_assert_eq(grey_ledger_open(path, true, &run, err, sizeof err), 0);
    cr_assert_eq(grey_ledger_open(path, false, &reader, err, sizeof err), 0);
    uint64_t id = 0, other = 0;
    cr_assert_eq(grey_ledger_run_begin(&run, &id), 0);
    cr_assert_neq(id, 0);
    cr_assert_not(grey_ledger_run_dead(&run, id), "grey-run's own run");
    cr_assert_not(grey_ledger_run_dead(&reader, id), "seen by another process");
    cr_assert(grey_ledger_run_dead(&reader, 0), "0 names no run");
    cr_assert(grey_ledger_run_dead(&reader, id ^ 1), "a run id whose nonce is not the run's");
    cr_assert_eq(grey_ledger_run_begin(&reader, &other), 0);
    cr_assert_neq(other >> 48, id >> 48, "two live runs hold two locks");
    grey_ledger_close(&run);
    cr_assert(grey_ledger_run_dead(&reader, id), "its grey-run is gone");
    grey_ledger_close(&reader);
    unlink(path);
}
