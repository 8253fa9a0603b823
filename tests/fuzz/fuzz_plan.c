/* libFuzzer target: the plan parser runs inside foreign processes on files users write, so no
 * input may crash it, read out of bounds or hit undefined behaviour. And whatever it accepts,
 * the writer must write back as a plan it accepts again with the same limits (grey-plan relies
 * on that round trip). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/plan.h"
#include "tools/plan_write.h"

static struct grey_plan plan, again;
static struct grey_plan_notes notes, notes_again;

static void same_limits(const struct grey_plan *a, const struct grey_plan *b)
{
    if (a->version != b->version || a->mode != b->mode || a->ndevices != b->ndevices ||
        a->nprincipals != b->nprincipals || (a->ledger[0] != 0) != (b->ledger[0] != 0) ||
        (a->ledger_group[0] != 0) != (b->ledger_group[0] != 0) || a->tenants != b->tenants ||
        a->workload != b->workload || a->model_size != b->model_size ||
        a->default_weight != b->default_weight || a->has_confidence != b->has_confidence ||
        a->confidence != b->confidence)
        __builtin_trap();
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (a->dev[d].present != b->dev[d].present || a->dev[d].budget != b->dev[d].budget ||
            a->dev[d].process_cap != b->dev[d].process_cap || a->dev[d].vram != b->dev[d].vram ||
            a->dev[d].throttle_temp != b->dev[d].throttle_temp ||
            a->dev[d].cooldown_temp != b->dev[d].cooldown_temp ||
            a->dev[d].shutdown_temp != b->dev[d].shutdown_temp ||
            a->dev[d].batch_size != b->dev[d].batch_size || a->dev[d].chunk_size != b->dev[d].chunk_size)
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
    if (grey_plan_parse_notes((const char *)data, size, "fuzz.conf", &plan, &notes, err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.conf:", 10) != 0)
            __builtin_trap(); /* every error names the file */
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return 0;
    if (grey_plan_write_notes(f, &plan, &notes) != 0) {
        fclose(f);
        free(text);
        return 0;
    }
    fclose(f);
    if (grey_plan_parse_notes(text, len, "written.conf", &again, &notes_again, err, sizeof err) != 0) {
        fprintf(stderr, "the writer's output was refused: %s\n%s\n", err, text);
        __builtin_trap();
    }
    same_limits(&plan, &again);
    /* Every KEY.why comes back with its confidence and reason. */
    if (notes_again.n != notes.n)
        __builtin_trap();
    for (unsigned i = 0; i < notes.n; i++) {
        const struct grey_plan_why *w = grey_plan_why_find(&notes_again, notes.why[i].section, notes.why[i].key);
        if (!w || w->confidence != notes.why[i].confidence || strcmp(w->reason, notes.why[i].reason) != 0)
            __builtin_trap();
    }
    free(text);
    return 0;
}
