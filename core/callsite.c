/* libunwind is opened with dlopen(RTLD_LOCAL) rather than linked: libunwind.so.8 exports its own
 * _Unwind_RaiseException & co. (and a weak backtrace), which, loaded into the global scope ahead
 * of libgcc_s by LD_PRELOAD, would take over the host program's C++ exceptions. Kept local, only
 * grey ever calls it. */
#include "callsite.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>

#include "policy/sites.h"
#include "log.h"
#include "modules.h"
#include "real.h"
#include "settings.h"

/* Frames of grey's own between the wrapper's caller and the capture (capture, track, settle,
 * the vendor's settle, a family's helper, the wrapper): asked for on top of the depth, then
 * dropped. */
#define OWN_FRAMES_MAX 6

typedef int (*unw_backtrace_fn)(void **buffer, int size);

static unw_backtrace_fn backtrace_fn;
static uintptr_t self_lo, self_hi;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int find_self(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uintptr_t me = (uintptr_t)arg;
    uintptr_t lo, hi;
    grey_module_span(info, &lo, &hi);
    if (me >= lo && me < hi) {
        self_lo = lo;
        self_hi = hi;
        return 1;
    }
    return 0;
}

static void init(void)
{
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&grey_callsite_capture);
    void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (lib)
        backtrace_fn = (unw_backtrace_fn)grey_real_dlsym(lib, "unw_backtrace");
    if (!backtrace_fn) {
        /* Said loudly only when the user asked for a report that needs the sites. */
        if (grey_settings()->record)
            grey_warn("cannot load libunwind.so.8 (%s): allocation call sites are not recorded",
                      lib ? "no unw_backtrace" : dlerror());
        else
            grey_log("cannot load libunwind.so.8: allocation call sites are not recorded");
    }
}

uint32_t grey_callsite_capture(void)
{
    const struct grey_settings *cfg = grey_settings();
    if (!cfg->sites)
        return GREY_SITE_NONE;
    pthread_once(&once, init);
    if (!backtrace_fn)
        return GREY_SITE_NONE;
    void *ips[GREY_SITE_MAX_DEPTH + OWN_FRAMES_MAX];
    int n = backtrace_fn(ips, (int)cfg->depth + OWN_FRAMES_MAX);
    int first = 0;
    while (first < n && (uintptr_t)ips[first] >= self_lo && (uintptr_t)ips[first] < self_hi)
        first++;
    uint64_t frames[GREY_SITE_MAX_DEPTH];
    unsigned depth = 0;
    for (int i = first; i < n && depth < cfg->depth; i++)
        frames[depth++] = (uint64_t)(uintptr_t)ips[i];
    return sites_intern(frames, depth);
}
