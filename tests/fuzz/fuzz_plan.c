/* libFuzzer target: the plan parser runs inside foreign processes on files users write, so no
 * input may crash it, read out of bounds or hit undefined behaviour. And whatever it accepts,
 * the writer must write back as a plan it accepts again with the same limits (grey-plan relies
 * on that round trip). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/plan.h"

static struct grey_plan plan, again;

static void same_limits(const struct grey_plan *a, const struct grey_plan *b)
{
    if (a->version != b->version || a->mode != b->mode || a->ndevices != b->ndevices ||
        a->nprincipals != b->nprincipals || (a->ledger[0] != 0) != (b->ledger[0] != 0) ||
        (a->ledger_group[0] != 0) != (b->ledger_group[0] != 0))
        __builtin_trap();
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (a->dev[d].present != b->dev[d].present || a->dev[d].budget != b->dev[d].budget ||
            a->dev[d].process_cap != b->dev[d].process_cap || a->dev[d].vram != b->dev[d].vram)
            __builtin_trap();
    for (unsigned i = 0; i < a->nprincipals; i++)
        if (a->principal[i].is_group != b->principal[i].is_group ||
            a->principal[i].process_cap != b->principal[i].process_cap ||
            strcmp(a->principal[i].name, b->principal[i].name) != 0)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    if (grey_plan_parse((const char *)data, size, "fuzz.conf", &plan, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.conf:", 10) != 0)
            __builtin_trap(); /* every error names the file */
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return 0;
    if (grey_plan_write(f, &plan) != 0) {
        fclose(f);
        free(text);
        return 0;
    }
    fclose(f);
    if (grey_plan_parse(text, len, "written.conf", &again, err, sizeof err) != 0) {
        fprintf(stderr, "the writer's output was refused: %s\n%s\n", err, text);
        __builtin_trap();
    }
    same_limits(&plan, &again);
    free(text);
    return 0;
}
