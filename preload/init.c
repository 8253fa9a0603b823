/* Loading, forking and exiting, in order: the process's registration and settings (core/), then
 * what the shims keep per process (shim/), then the buffer recorder's notifications. Each layer's
 * own state is its own; this file only calls them in the right order. */
#include "init.h"

#include <pthread.h>

#include "core/process.h"
#include "shim/graph_table.h"
#include "shim/pace.h"
#include "shim/vmm_table.h"
#include "recorder.h"

static void fork_prepare(void)
{
    grey_process_fork_prepare();
    grey_graph_fork_prepare();
    grey_vmm_fork_prepare();
}

static void fork_parent(void)
{
    grey_vmm_fork_parent();
    grey_graph_fork_parent();
    grey_process_fork_parent();
}

static void fork_child(void)
{
    grey_vmm_fork_child();
    grey_graph_fork_child();
    grey_process_fork_child();
    grey_pace_fork_child();
}

void grey_init_fork_handlers(void (**prepare)(void), void (**parent)(void), void (**child)(void))
{
    *prepare = fork_prepare;
    *parent = fork_parent;
    *child = fork_child;
}

/* At load, before any GPU call: registration must not wait for the first one (see
 * core/process.h), and the settings' start time is the start of the process's timeline. */
__attribute__((constructor)) static void grey_load(void)
{
    grey_process_init();
    grey_recorder_install();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

__attribute__((destructor)) static void grey_unload(void)
{
    grey_graph_log_stats();
    grey_process_exit();
}
