/* Helpers for the ledger's unit tests: other "processes" on a ledger file, as the kernel sees
 * them. A slot is alive while some open file description holds its lock byte (policy/ledger.h),
 * so a test gives a slot a live owner by locking it through a description of its own (alive
 * until closed), or through a real child process (alive until killed). */
#ifndef GREY_TEST_LEDGER_LOCKS_H
#define GREY_TEST_LEDGER_LOCKS_H

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy/ledger.h"

/* Locks slot i of the ledger at path through a new description; returns its fd (close it and
 * the owner is dead). */
static inline int hold_slot(const char *path, uint32_t i)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    cr_assert_geq(fd, 0);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = (off_t)grey_ledger_slot_lock_offset(i), .l_len = 1};
    cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0, "slot %u is already held", i);
    return fd;
}

/* Locks slot i through a description the caller keeps (several slots on one fd). */
static inline void hold_slot_on(int fd, uint32_t i)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                       .l_start = (off_t)grey_ledger_slot_lock_offset(i), .l_len = 1};
    cr_assert_eq(fcntl(fd, F_OFD_SETLK, &fl), 0, "slot %u is already held", i);
}

/* A child process that holds slot i's lock until it is killed; returns its pid once it does. */
static inline pid_t holder_process(const char *path, uint32_t i)
{
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        int fd = open(path, O_RDWR);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                           .l_start = (off_t)grey_ledger_slot_lock_offset(i), .l_len = 1};
        char ok = fd >= 0 && fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char ok = 0;
    cr_assert_eq(read(ready[0], &ok, 1), 1);
    cr_assert_eq(ok, 'y', "the child could not lock slot %u", i);
    close(ready[0]);
    close(ready[1]);
    return child;
}

static inline void kill_holder(pid_t child)
{
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

#endif
