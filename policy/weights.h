/* Fair-share weights and ceilings: parsing them (GREY_WEIGHT / --weight, GREY_MAX_SHARE /
 * --max-share) and choosing each process's weight from its plans, as caps are chosen:
 *
 *   in one plan, per device: the weight of the process's [user] section, else the smallest of its
 *       [group] sections' weights, else the [device N] weight, else the plan's default_weight;
 *   admin plans set a ceiling (the smallest of theirs); below it the user chooses: GREY_WEIGHT
 *       when given, else the first of the user's plans that names a weight; the process gets
 *       min(ceiling, choice), or the ceiling when it chose nothing, or 1 when nobody said.
 *
 * So an admin can give alice twice bob's share, and alice can lower hers but not raise it.
 * Pure functions: the hook and grey-run both call them. */
#ifndef GREY_WEIGHTS_H
#define GREY_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "caps.h"
#include "pacer.h"
#include "plan.h"

/* "3" -> 3. Integers 1..GREY_WEIGHT_MAX only. 0, or -1 with the reason in err. */
int grey_weight_parse(const char *text, uint32_t *out, char *err, size_t errlen);

/* "25%", "25" or "12.5%" -> 2500, 2500, 1250 (1/10000 of the device). More than 0, at most 100%,
 * at most two decimals. 0, or -1 with the reason in err. */
int grey_share_parse(const char *text, uint32_t *out, char *err, size_t errlen);

/* "25%" / "12.5%" for a share in 1/10000. */
const char *grey_share_format(uint32_t share, char *buf, size_t len);

/* The weight one plan gives id on device dev; 0 when it says nothing. id may be NULL. */
uint32_t grey_plan_weight(const struct grey_plan *plan, const struct grey_identity *id, int dev);

/* The rule above for every device. override: GREY_WEIGHT (0: not given). raised, when not NULL,
 * gets bit d where override asked for more than an admin plan allows. */
void grey_weights_resolve(const struct grey_plan *const *plans, unsigned nplans, const struct grey_identity *id,
                          uint32_t override, uint32_t out[GREY_MAX_DEVICES], grey_devmask *raised);

#endif
