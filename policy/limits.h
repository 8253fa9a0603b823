/* Fixed sizes shared by every part of grey. They are part of the ledger's layout and of the
 * plan format, so changing one is a format change (bump the versions in ledger.h / plan.h). */
#ifndef GREY_LIMITS_H
#define GREY_LIMITS_H

#define GREY_MAX_DEVICES 16      /* device indices 0..15 in plans, ledgers and the hook */
#define GREY_NAME_MAX 128        /* device names, including the terminating NUL */

#endif
