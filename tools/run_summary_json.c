/* grey-run --summary-json: the summary as JSON (the format is in run_summary.h). */
#include "run_summary.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cli_common.h"

/* cJSON keeps numbers as doubles: exact for byte counts below 2^53 (8 PiB), far above any GPU. */
static void add_bytes(cJSON *o, const char *key, uint64_t v)
{
    if (v == UINT64_MAX)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)v);
}

static cJSON *gpu_object(int row, const struct run_summary_gpu *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "row", row);
    if (g->have_id) {
        cJSON_AddNumberToObject(o, "index", g->id.index);
        cJSON_AddStringToObject(o, "uuid", g->id.uuid);
        cJSON_AddStringToObject(o, "pci_bus_id", g->id.pci_bus_id);
        cJSON_AddStringToObject(o, "name", g->id.name);
    }
    add_bytes(o, "cap_bytes", g->cap);
    add_bytes(o, "peak_bytes", g->peak);
    cJSON_AddNumberToObject(o, "denied", (double)g->denied);
    add_bytes(o, "largest_denied_bytes", g->largest_denied);
    cJSON_AddNumberToObject(o, "throttled_seconds", (double)g->throttled_ns / 1e9);
    cJSON_AddNumberToObject(o, "processes", g->processes);
    return o;
}

int run_summary_write_json(FILE *f, const struct run_summary *s, char *const *command)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "grey_version", cli_version_string());
    cJSON *cmd = cJSON_AddArrayToObject(root, "command");
    for (char *const *a = command; a && *a; a++)
        cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
    cJSON_AddNumberToObject(root, "exit_code", s->exit_code);
    if (s->started && WIFEXITED(s->wait_status))
        cJSON_AddNumberToObject(root, "exit_status", WEXITSTATUS(s->wait_status));
    else
        cJSON_AddNullToObject(root, "exit_status");
    if (s->started && WIFSIGNALED(s->wait_status))
        cJSON_AddNumberToObject(root, "signal", WTERMSIG(s->wait_status));
    else
        cJSON_AddNullToObject(root, "signal");
    cJSON_AddBoolToObject(root, "started", s->started);
    cJSON_AddBoolToObject(root, "ledger", s->ledger);
    cJSON_AddBoolToObject(root, "hook_loaded", s->processes > 0);
    cJSON_AddNumberToObject(root, "processes", s->processes);
    cJSON_AddNumberToObject(root, "gpu_processes", s->gpu_processes);
    cJSON *gpus = cJSON_AddArrayToObject(root, "gpus");
    for (int d = 0; d < GREY_MAX_DEVICES; d++)
        if (s->gpu[d].processes)
            cJSON_AddItemToArray(gpus, gpu_object(d, &s->gpu[d]));

    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        errno = ENOMEM;
        return -1;
    }
    int rc = (fputs(text, f) < 0 || fputc('\n', f) == EOF || fflush(f) != 0) ? -1 : 0;
    free(text);
    return rc;
}
