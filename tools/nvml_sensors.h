/* Every GPU's temperature and power draw from NVML (dlopen'ed; none when it is not there), for
 * grey-run --artifacts' thermal signature (run_artifacts.c). */
#ifndef GREY_NVML_SENSORS_H
#define GREY_NVML_SENSORS_H

#include <stdbool.h>

struct nvml_sensor {
    int index;          /* NVML's (physical) index */
    bool have_temp, have_power;
    unsigned temp_c;
    double power_w;
};

/* Fills out[0..max) with what NVML says of each GPU; returns how many (0: no NVML, no GPU). */
int nvml_sensors_read(struct nvml_sensor *out, int max);

#endif
