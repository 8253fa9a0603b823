/* Asking a running hooked process for its buffer record now (grey-report --live PID): connect to
 * its agent's socket (preload/agent.h) in the user's report directory, ask for a snapshot, and
 * get back the path of the raw record it wrote. */
#ifndef GREY_LIVE_CLIENT_H
#define GREY_LIVE_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* 0 with the record's path in path, or -1 with the reason in err. timeout_ms bounds the wait
 * for the snapshot (which reads the process's buffers back). Refused: a report directory (or its
 * live/) that is not this user's alone, a socket whose peer (SO_PEERCRED) is not process pid of
 * this user, and an answer naming any path but LIVE/PID-SEQ.raw in the directory checked, so
 * the caller may read and remove the record it returns. */
int grey_live_request(int pid, int timeout_ms, char *path, size_t pathlen, char *err, size_t errlen);

/* Reads n bytes (at most GREY_LIVE_READ_MAX) at offset into process pid's tracked device buffer
 * addr, through its agent, with the same checks as grey_live_request (grey-report --node
 * --verify). 0, or -1 with the reason in err. */
#define GREY_LIVE_READ_MAX (1u << 20)
int grey_live_read(int pid, uint64_t addr, uint64_t offset, void *dst, size_t n, int timeout_ms, char *err,
                   size_t errlen);

#endif
