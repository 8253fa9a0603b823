"""Samples every simulated GPU's temperature and power through NVML (ctypes) until a deadline.

    sample_nvml.py LIBNVML DEVICES UNTIL_NS PERIOD_S > CSV

One line per reading: CLOCK_MONOTONIC ns, GPU index, degrees C, watts. The thermal tests read it
to see what the GPUs did while the loads ran (independently of what grey says it saw)."""
import ctypes
import sys
import time

lib, count, until, period = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
nvml = ctypes.CDLL(lib)
if nvml.nvmlInit_v2() != 0:
    sys.exit("nvmlInit_v2 failed")
handles = []
for i in range(count):
    h = ctypes.c_void_p()
    if nvml.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) != 0:
        sys.exit(f"no handle for GPU {i}")
    handles.append(h)
print("t_ns,gpu,temp_c,power_w", flush=True)
while time.clock_gettime_ns(time.CLOCK_MONOTONIC) < until:
    now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    for i, h in enumerate(handles):
        c, p = ctypes.c_uint(), ctypes.c_uint()
        nvml.nvmlDeviceGetTemperature(h, 0, ctypes.byref(c))
        nvml.nvmlDeviceGetPowerUsage(h, ctypes.byref(p))
        print(f"{now},{i},{c.value},{p.value / 1000:.1f}", flush=True)
    time.sleep(period)
