/* A GPU row's temperature, from NVML (the real library's functions, through grey_lib_symbol, as
 * shim/nvml_ids.c finds them). Called only from the thermal watcher's own thread (thermal.c),
 * never from a launch: a real NVML call may take milliseconds. */
#include <pthread.h>
#include <stdbool.h>

#include "core/devices.h"
#include "core/real.h"
#include "thermal.h"
#include "vendor/nvml_api.h"

typedef nvmlReturn_t (*init_fn)(void);
typedef nvmlReturn_t (*by_uuid_fn)(const char *, nvmlDevice_t *);
typedef nvmlReturn_t (*is_mig_fn)(nvmlDevice_t, unsigned *);
typedef nvmlReturn_t (*parent_fn)(nvmlDevice_t, nvmlDevice_t *);
typedef nvmlReturn_t (*temp_fn)(nvmlDevice_t, unsigned, unsigned *);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static by_uuid_fn by_uuid;
static is_mig_fn is_mig;
static parent_fn parent_of;
static temp_fn temperature;
static nvmlDevice_t handle[GREY_MAX_DEVICES]; /* the watcher thread's own cache */

static void load(void)
{
    init_fn init = (init_fn)grey_lib_symbol(GREY_LIB_NVML, "nvmlInit_v2");
    if (!init || init() != NVML_SUCCESS)
        return;
    by_uuid = (by_uuid_fn)grey_lib_symbol(GREY_LIB_NVML, "nvmlDeviceGetHandleByUUID");
    is_mig = (is_mig_fn)grey_lib_symbol(GREY_LIB_NVML, "nvmlDeviceIsMigDeviceHandle");
    parent_of = (parent_fn)grey_lib_symbol(GREY_LIB_NVML, "nvmlDeviceGetDeviceHandleFromMigDeviceHandle");
    temperature = (temp_fn)grey_lib_symbol(GREY_LIB_NVML, "nvmlDeviceGetTemperature");
}

bool grey_thermal_read_c(int row, unsigned *temp_c)
{
    pthread_once(&once, load);
    if (!by_uuid || !temperature || row < 0 || row >= GREY_MAX_DEVICES)
        return false;
    if (!handle[row]) {
        struct grey_gpu_id id;
        nvmlDevice_t h;
        if (!grey_device_identity(row, &id) || !id.uuid[0] || by_uuid(id.uuid, &h) != NVML_SUCCESS)
            return false;
        unsigned mig = 0;
        /* A MIG instance has no sensor of its own: its GPU's temperature is its. */
        if (is_mig && parent_of && is_mig(h, &mig) == NVML_SUCCESS && mig && parent_of(h, &h) != NVML_SUCCESS)
            return false;
        handle[row] = h;
    }
    return temperature(handle[row], NVML_TEMPERATURE_GPU, temp_c) == NVML_SUCCESS;
}
