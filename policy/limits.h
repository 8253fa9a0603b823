/* Fixed sizes shared by every part of grey. They are part of the ledger's layout and of the
 * plan format, so changing one is a format change (bump the versions in ledger.h / plan.h). */
#ifndef GREY_LIMITS_H
#define GREY_LIMITS_H

#include <stdint.h>

/* Devices: GPU rows in the ledger and [device N] sections in plans. A node of eight GPUs with
 * seven MIG instances each still fits. */
#define GREY_MAX_DEVICES 64
#define GREY_NAME_MAX 128        /* device names, including the terminating NUL */

/* A set of devices, bit N for device N. */
typedef uint64_t grey_devmask;
#define GREY_DEVBIT(d) ((grey_devmask)1 << (d))
/* The lowest device in a non-empty set. */
#define grey_devmask_first(m) __builtin_ctzll(m)
/* True when the set holds exactly one device. */
#define grey_devmask_single(m) ((m) != 0 && ((m) & ((m)-1)) == 0)

#endif
