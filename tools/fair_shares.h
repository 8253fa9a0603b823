/* A process's fair share of a device, as grey-top shows it and the metrics export it: the share
 * it is entitled to (its weight over the weights of the processes active there, held to its
 * ceiling) and the share it measurably got (its recent device time over everyone's). */
#ifndef GREY_FAIR_SHARES_H
#define GREY_FAIR_SHARES_H

#include "ledger_view.h"

/* Process i's shares of device dev, in [0, 1]; entitled is 0 for a process not active there. */
void grey_fair_shares(const struct grey_view *v, unsigned i, int dev, double *entitled, double *measured);

#endif
