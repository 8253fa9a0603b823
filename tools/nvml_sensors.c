/* NVML's temperatures and power readings (nvml_sensors.h). The library is opened once and kept:
 * grey-run reads it once a second for the whole job. */
#include "nvml_sensors.h"

#include <dlfcn.h>
#include <pthread.h>

#include "vendor/nvml_api.h"

typedef nvmlReturn_t (*count_fn)(unsigned *);
typedef nvmlReturn_t (*handle_fn)(unsigned, nvmlDevice_t *);
typedef nvmlReturn_t (*uint_fn)(nvmlDevice_t, unsigned *);
typedef nvmlReturn_t (*temp_fn)(nvmlDevice_t, unsigned, unsigned *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static count_fn count;
static handle_fn by_index;
static temp_fn temperature;
static uint_fn power;

static void load(void)
{
    void *lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return;
    nvmlReturn_t (*init)(void) = (nvmlReturn_t (*)(void))dlsym(lib, "nvmlInit_v2");
    if (!init || init() != NVML_SUCCESS)
        return;
    count = (count_fn)dlsym(lib, "nvmlDeviceGetCount_v2");
    by_index = (handle_fn)dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
    temperature = (temp_fn)dlsym(lib, "nvmlDeviceGetTemperature");
    power = (uint_fn)dlsym(lib, "nvmlDeviceGetPowerUsage");
}

int nvml_sensors_read(struct nvml_sensor *out, int max)
{
    pthread_once(&once, load);
    unsigned n = 0;
    if (!count || !by_index || count(&n) != NVML_SUCCESS)
        return 0;
    int got = 0;
    for (unsigned i = 0; i < n && got < max; i++) {
        nvmlDevice_t h;
        if (by_index(i, &h) != NVML_SUCCESS)
            continue;
        struct nvml_sensor *s = &out[got++];
        unsigned mw = 0;
        s->index = (int)i;
        s->have_temp = temperature && temperature(h, NVML_TEMPERATURE_GPU, &s->temp_c) == NVML_SUCCESS;
        s->have_power = power && power(h, &mw) == NVML_SUCCESS;
        s->power_w = mw / 1000.0;
    }
    return got;
}
