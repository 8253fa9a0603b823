/* What the shims tell the buffer recorder (preload/recorder.c), which lives above them: the
 * recorder registers its handlers at load, as the tracker's retire hook is registered, so no
 * include goes upward. Before that (or in a process that records nothing) notifications do
 * nothing. */
#ifndef GREY_CORE_NOTIFY_H
#define GREY_CORE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct grey_recorder_handlers {
    /* A buffer was tracked in a process that records (the recorder starts on the first). */
    void (*buffer_tracked)(void);
    /* A context (or a HIP device) is about to be destroyed (certain) or may be (a primary
     * context release, which destroys it only with the last reference): its buffers should be
     * fingerprinted while they exist. */
    void (*context_closing)(uint64_t context, bool certain);
};

/* Installs the handlers (once; h must stay valid). */
void grey_notify_install(const struct grey_recorder_handlers *h);

void grey_notify_buffer_tracked(void);
void grey_notify_context_closing(uint64_t context, bool certain);

#endif
