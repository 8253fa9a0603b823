/* The small vocabulary around a plan's explanations (see plan.h): finding and setting KEY.why
 * entries, writing confidences, the workload and mode names. Kept apart from the parser
 * (plan_parse.c); nothing here allocates, so the parser may use it inside the hook. */
#include <stdio.h>
#include <string.h>

#include "plan.h"

const struct grey_plan_why *grey_plan_why_find(const struct grey_plan_notes *notes, int section,
                                               const char *key)
{
    if (!notes)
        return NULL;
    for (unsigned i = 0; i < notes->n && i < GREY_PLAN_WHY_MAX; i++)
        if (notes->why[i].section == section && strcmp(notes->why[i].key, key) == 0)
            return &notes->why[i];
    return NULL;
}

int grey_plan_why_set(struct grey_plan_notes *notes, int section, const char *key, unsigned confidence,
                      const char *reason)
{
    struct grey_plan_why *w = (struct grey_plan_why *)grey_plan_why_find(notes, section, key);
    if (!w) {
        if (notes->n >= GREY_PLAN_WHY_MAX || strlen(key) >= GREY_PLAN_KEY_MAX)
            return -1;
        w = &notes->why[notes->n++];
        memset(w, 0, sizeof *w);
        w->section = section;
        snprintf(w->key, sizeof w->key, "%s", key);
    }
    w->confidence = confidence > 1000 ? 1000 : confidence;
    snprintf(w->reason, sizeof w->reason, "%s", reason);
    /* One line each: a line break would end the .why line in the middle of its reason. */
    for (char *p = w->reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return 0;
}

const char *grey_plan_confidence_format(unsigned permille, char *buf, size_t len)
{
    if (permille >= 1000)
        snprintf(buf, len, "1");
    else if (permille == 0)
        snprintf(buf, len, "0");
    else if (permille % 100 == 0)
        snprintf(buf, len, "0.%u", permille / 100);
    else if (permille % 10 == 0)
        snprintf(buf, len, "0.%02u", permille / 10);
    else
        snprintf(buf, len, "0.%03u", permille);
    return buf;
}

const char *grey_plan_workload_name(enum grey_plan_workload w)
{
    switch (w) {
    case GREY_WORKLOAD_TRAINING: return "training";
    case GREY_WORKLOAD_INFERENCE: return "inference";
    case GREY_WORKLOAD_UNSET: break;
    }
    return "unset";
}

int grey_plan_workload_parse(const char *text)
{
    if (!text)
        return -1;
    if (strcmp(text, "training") == 0)
        return GREY_WORKLOAD_TRAINING;
    if (strcmp(text, "inference") == 0)
        return GREY_WORKLOAD_INFERENCE;
    return -1;
}

const char *grey_plan_mode_name(enum grey_plan_mode mode)
{
    switch (mode) {
    case GREY_MODE_SAFE: return "safe";
    case GREY_MODE_BALANCED: return "balanced";
    case GREY_MODE_AGGRESSIVE: return "aggressive";
    }
    return "unknown";
}

int grey_plan_mode_parse(const char *text)
{
    if (!text)
        return -1;
    for (int m = GREY_MODE_SAFE; m <= GREY_MODE_AGGRESSIVE; m++)
        if (strcmp(text, grey_plan_mode_name((enum grey_plan_mode)m)) == 0)
            return m;
    return -1;
}

const char *grey_watchdog_policy_name(enum grey_watchdog_policy p)
{
    switch (p) {
    case GREY_WATCHDOG_LOG: return "log";
    case GREY_WATCHDOG_SIGNAL: return "signal";
    case GREY_WATCHDOG_KILL: return "kill";
    }
    return "log";
}

int grey_watchdog_policy_parse(const char *text)
{
    if (!text)
        return -1;
    if (strcmp(text, "log") == 0)
        return GREY_WATCHDOG_LOG;
    if (strcmp(text, "signal") == 0)
        return GREY_WATCHDOG_SIGNAL;
    if (strcmp(text, "kill") == 0)
        return GREY_WATCHDOG_KILL;
    return -1;
}
