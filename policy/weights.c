/* Weights and ceilings from plans and the environment (see weights.h). */
#include "weights.h"

#include <stdio.h>
#include <string.h>

static int weight_fail(char *err, size_t errlen, const char *text, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "'%s' %s", text, why);
    return -1;
}

int grey_weight_parse(const char *text, uint32_t *out, char *err, size_t errlen)
{
    if (!text || !*text)
        return weight_fail(err, errlen, text ? text : "", "is not a weight (a whole number from 1 to 10000)");
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return weight_fail(err, errlen, text, "is not a weight (a whole number from 1 to 10000)");
        if (v <= GREY_WEIGHT_MAX)
            v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v < 1 || v > GREY_WEIGHT_MAX)
        return weight_fail(err, errlen, text, "is out of range (weights are 1 to 10000)");
    *out = (uint32_t)v;
    return 0;
}

int grey_share_parse(const char *text, uint32_t *out, char *err, size_t errlen)
{
    const char *bad = "is not a share (a percentage such as 25% or 12.5%)";
    if (!text || !*text)
        return weight_fail(err, errlen, text ? text : "", bad);
    const char *p = text;
    uint64_t whole = 0, hundredths = 0;
    int digits = 0, decimals = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++)
        if (whole < 1000)
            whole = whole * 10 + (uint64_t)(*p - '0');
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, decimals++)
            if (decimals < 2)
                hundredths = hundredths * 10 + (uint64_t)(*p - '0');
        if (decimals == 0 || decimals > 2)
            return weight_fail(err, errlen, text, decimals ? "has more than two decimals" : bad);
        if (decimals == 1)
            hundredths *= 10;
    }
    if (*p == '%')
        p++;
    if (digits == 0 || *p)
        return weight_fail(err, errlen, text, bad);
    uint64_t share = whole * 100 + hundredths;
    if (share == 0 || share > GREY_SHARE_ONE)
        return weight_fail(err, errlen, text, "is out of range (more than 0%, at most 100%)");
    *out = (uint32_t)share;
    return 0;
}

const char *grey_share_format(uint32_t share, char *buf, size_t len)
{
    if (share % 100 == 0)
        snprintf(buf, len, "%u%%", share / 100);
    else if (share % 10 == 0)
        snprintf(buf, len, "%u.%u%%", share / 100, (share % 100) / 10);
    else
        snprintf(buf, len, "%u.%02u%%", share / 100, share % 100);
    return buf;
}

uint32_t grey_plan_weight(const struct grey_plan *plan, const struct grey_identity *id, int dev)
{
    uint32_t user = 0, group = 0;
    for (unsigned i = 0; i < plan->nprincipals && i < GREY_PLAN_PRINCIPALS; i++) {
        const struct grey_plan_principal *pr = &plan->principal[i];
        if (!pr->weight || !grey_principal_matches(pr, id))
            continue;
        if (!pr->is_group)
            user = pr->weight;
        else if (!group || pr->weight < group)
            group = pr->weight;
    }
    if (user)
        return user;
    if (group)
        return group;
    if (dev >= 0 && dev < GREY_MAX_DEVICES && plan->dev[dev].present && plan->dev[dev].weight)
        return plan->dev[dev].weight;
    return plan->default_weight;
}

void grey_weights_resolve(const struct grey_plan *const *plans, unsigned nplans, const struct grey_identity *id,
                          uint32_t override, uint32_t out[GREY_MAX_DEVICES], grey_devmask *raised)
{
    if (raised)
        *raised = 0;
    for (int d = 0; d < GREY_MAX_DEVICES; d++) {
        uint32_t ceiling = 0, choice = override;
        for (unsigned p = 0; p < nplans; p++) {
            uint32_t w = grey_plan_weight(plans[p], id, d);
            if (!w)
                continue;
            if (plans[p]->admin)
                ceiling = ceiling && ceiling < w ? ceiling : w;
            else if (!choice)
                choice = w;
        }
        if (!choice)
            out[d] = ceiling ? ceiling : 1;
        else
            out[d] = ceiling && ceiling < choice ? ceiling : choice;
        if (raised && override && ceiling && override > ceiling)
            *raised |= GREY_DEVBIT(d);
    }
}
