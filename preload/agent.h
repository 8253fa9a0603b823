/* The agent: one thread in a recording process (preload/recorder.h), started with the recorder.
 * It takes periodic snapshots (GREY_DEDUP_INTERVAL), one when the process sits at a new peak, and
 * answers grey-report --live on a socket BASE/live/PID.sock (policy/report_dir.h) that only the
 * same user can reach. Every signal is blocked in it, so the program's signals still go to the
 * program's threads. */
#ifndef GREY_AGENT_H
#define GREY_AGENT_H

void grey_agent_start(void);
/* At exit: no more snapshots; the socket is removed. */
void grey_agent_stop(void);
/* In a fork child: the parent's thread is not there and its socket is not ours. */
void grey_agent_fork_child(void);

#endif
