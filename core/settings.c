#include "settings.h"

#include <pthread.h>
#include <unistd.h>

#include "log.h"

atomic_bool grey_settings_ready;
struct grey_settings grey_settings_store;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    grey_settings_read(&grey_settings_store, grey_env_process, (unsigned)geteuid());
    grey_log_enabled = grey_settings_store.log;
    for (unsigned i = 0; i < grey_settings_store.nwarnings; i++)
        grey_warn("%s", grey_settings_store.warning[i]);
    atomic_store_explicit(&grey_settings_ready, true, memory_order_release);
}

const struct grey_settings *grey_settings_slow(void)
{
    pthread_once(&once, load);
    return &grey_settings_store;
}
