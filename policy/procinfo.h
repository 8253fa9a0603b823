/* Facts about processes from /proc, read without stdio or malloc so the hook may use them in a
 * constructor or a fork handler. */
#ifndef GREY_PROCINFO_H
#define GREY_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* starttime (field 22 of /proc/PID/stat, clock ticks after boot). Together with the pid it names
 * one process for its whole life: a pid reused later has a later start time. Returns 0 or -1. */
int grey_proc_start_time(pid_t pid, uint64_t *out);

/* True when pid exists, started at start_time and is not a zombie. */
int grey_proc_alive(pid_t pid, uint64_t start_time);

/* True when some process (not a zombie) has this pid now, whoever it is. */
bool grey_proc_exists(pid_t pid);

/* The inode of this process's PID namespace (what /proc/self/ns/pid names), 0 when unknown. */
uint64_t grey_proc_pid_namespace(void);

/* The initial PID namespace's inode (the kernel's PROC_PID_INIT_INO): the host's. */
#define GREY_PIDNS_INIT 0xEFFFFFFCull

/* This process's pid as the host sees it, which is how the GPU driver and NVML name processes
 * whatever namespace they run in: getpid() in the host's namespace; in another, the outermost
 * pid /proc/self/status lists (NSpid), when /proc is an outer namespace's; -1 when it cannot be
 * known (a container with its own /proc): then no NVML process entry can be told to be ours. */
pid_t grey_proc_host_pid(void);

/* The real uid and gid of pid (the first figures of /proc/PID/status's Uid: and Gid: lines, as
 * this /proc's namespace sees them). 0, or -1 when the process is gone or the file unreadable. */
int grey_proc_ids(pid_t pid, uid_t *uid, gid_t *gid);

/* This process's command line, arguments joined by spaces, truncated to fit buf. */
void grey_proc_self_command(char *buf, size_t buflen);

#endif
