/* The end summary of a run: see run_summary.h. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "policy/ledger.h"
#include "policy/ledger_gpu.h"
#include "policy/size.h"
#include "job_env.h"
#include "run_summary.h"

void run_summary_print(struct grey_ledger *lg, uint64_t run_id, pid_t job_pid, int job_status,
                       const char *job_comm, bool quiet, struct run_summary *out)
{
    bool job_slot_left_active = false, left_by_exit = false;
    struct run_summary local;
    struct run_summary *sum = out ? out : &local;
    memset(sum->gpu, 0, sizeof sum->gpu);
    struct run_summary_gpu *dev = sum->gpu;
    /* Processes that never used a GPU left no slot behind, only a count (policy/ledger.h). */
    unsigned processes = (unsigned)grey_ledger_run_slotless(lg, run_id), gpu_processes = 0;
    for (uint32_t i = 0; i < lg->nslots; i++) {
        struct grey_slot *s = &lg->slots[i];
        uint32_t state = grey_slot_state(s);
        if ((state != GREY_SLOT_ACTIVE && state != GREY_SLOT_EXITED) || s->run_id != run_id)
            continue;
        processes++;
        /* A process that exits normally runs the hook's destructor (EXITED, or no slot at all); an
         * exec into a hooked program retires the slot too. Still ACTIVE after a normal exit means
         * the last program it ran never loaded the hook, or it left through _exit: when the
         * kernel's name for it at its end is still the slot's program, it was the _exit. */
        if (s->pid == job_pid && state == GREY_SLOT_ACTIVE && WIFEXITED(job_status)) {
            job_slot_left_active = true;
            left_by_exit = job_comm_is_command(job_comm, s->command);
        }
        if (atomic_load(&s->flags) & GREY_SLOT_USED_GPU)
            gpu_processes++;
        grey_devmask used = atomic_load(&s->devices_used);
        for (int d = 0; d < GREY_MAX_DEVICES; d++) {
            if (!(used & GREY_DEVBIT(d)))
                continue;
            struct grey_slot_device *c = &s->dev[d];
            uint64_t peak = atomic_load(&c->peak), cap = atomic_load(&c->cap);
            uint64_t largest = atomic_load(&c->largest_denied);
            if (peak > dev[d].peak)
                dev[d].peak = peak;
            if (cap > dev[d].cap)
                dev[d].cap = cap;
            if (largest > dev[d].largest_denied)
                dev[d].largest_denied = largest;
            dev[d].denied += atomic_load(&c->denied);
            dev[d].throttled_ns += atomic_load(&s->fair[d].throttled_ns);
            dev[d].processes++;
        }
        /* Collected: the slot is free for others once its owner is gone (a killed process's
         * bytes go back to the budgets first). */
        grey_slot_collect(lg, s);
    }
    sum->processes = processes;
    sum->gpu_processes = gpu_processes;
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (dev[d].processes && atomic_load(&lg->header->gpu[d].state) == GREY_GPU_ROW_READY) {
            grey_gpu_row_id(&lg->header->gpu[d], &dev[d].id);
            dev[d].have_id = true;
        }

    /* Status 127 is the dynamic linker's (a missing library or symbol: its own message is on
     * stderr already) or the shell's "not found": the hook was loaded and never got to run, or ran
     * until the linker stopped the process. Neither is a program that escaped the hook. */
    bool linker_stop = WIFEXITED(job_status) && WEXITSTATUS(job_status) == 127;
    if (processes == 0 && linker_stop) {
        fprintf(stderr, "grey: the job ended with status 127 before any of its code ran: the dynamic linker "
                        "refused the program (a missing library or symbol) or the command was not found; it used "
                        "no GPU\n");
        return;
    }
    if (processes == 0) {
        fprintf(stderr, "grey: WARNING: the job never loaded libgreyhook.so (a static or setuid program, or one "
                        "that clears LD_PRELOAD?): NO GPU limit was enforced\n");
        return;
    }
    if (job_slot_left_active && linker_stop)
        fprintf(stderr, "grey: the job's process %d was stopped with status 127 (by the dynamic linker: a symbol "
                        "lookup error, or _exit(127)); libgreyhook.so was loaded and its limits held until then\n",
                (int)job_pid);
    else if (job_slot_left_active && !left_by_exit)
        fprintf(stderr, "grey: WARNING: the job's process %d ran a program that did not load libgreyhook.so "
                        "(exec with LD_PRELOAD cleared?) or left through _exit: GPU limits may not have been "
                        "enforced there\n", (int)job_pid);
    if (quiet)
        return;
    if (gpu_processes == 0) {
        fprintf(stderr, "grey: the job made no GPU calls through the hook (%u process%s)\n", processes,
                processes == 1 ? "" : "es");
        return;
    }
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        if (dev[d].processes == 0)
            continue;
        char peak[32], cap[32], largest[32], across[48] = "", label[64];
        if (dev[d].have_id)
            grey_gpu_label(&dev[d].id, label, sizeof label);
        else
            snprintf(label, sizeof label, "row %d", d);
        if (dev[d].processes > 1)
            snprintf(across, sizeof across, " (%u processes)", dev[d].processes);
        grey_size_format(dev[d].peak, peak, sizeof peak);
        if (dev[d].cap == UINT64_MAX)
            snprintf(cap, sizeof cap, "no cap");
        else
            grey_size_format(dev[d].cap, cap, sizeof cap);
        /* Time at the gate only when there was some: most jobs never wait. */
        char throttled[64] = "";
        if (dev[d].throttled_ns)
            snprintf(throttled, sizeof throttled, "; launches throttled %.2f s",
                     (double)dev[d].throttled_ns / 1e9);
        if (dev[d].denied)
            fprintf(stderr, "grey: peak %s of %s on %s%s; %llu allocation%s denied (largest %s)%s\n", peak, cap,
                    label, across, (unsigned long long)dev[d].denied, dev[d].denied == 1 ? "" : "s",
                    grey_size_format(dev[d].largest_denied, largest, sizeof largest), throttled);
        else
            fprintf(stderr, "grey: peak %s of %s on %s%s; no allocation denied%s\n", peak, cap, label, across,
                    throttled);
    }
}
