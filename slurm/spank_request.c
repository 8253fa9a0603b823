/* The users' options: see spank_request.h. */
#include <stdio.h>
#include <string.h>

#include "policy/weights.h"
#include "tools/cli_common.h"
#include "spank_request.h"

int spank_request_set(struct spank_request *req, int id, const char *value, char *err, size_t errlen)
{
    char why[200];
    uint32_t v;
    switch (id) {
    case SPANK_OPT_MEM_CAP:
        if (!value || cli_check_size(value, &req->cap, why, sizeof why) != 0) {
            snprintf(err, errlen, "--gpu-mem-cap=%s: %s", value ? value : "", value ? why : "needs a SIZE");
            return -1;
        }
        req->have_cap = true;
        return 0;
    case SPANK_OPT_WEIGHT:
    case SPANK_OPT_MAX_SHARE: {
        const char *name = id == SPANK_OPT_WEIGHT ? "--gpu-weight" : "--gpu-max-share";
        char *dst = id == SPANK_OPT_WEIGHT ? req->weight : req->max_share;
        if (!value || (id == SPANK_OPT_WEIGHT ? grey_weight_parse : grey_share_parse)(value, &v, why, sizeof why) != 0) {
            snprintf(err, errlen, "%s=%s: %s", name, value ? value : "", value ? why : "needs a value");
            return -1;
        }
        if (strlen(value) >= sizeof req->weight) {
            snprintf(err, errlen, "%s=%s: too long", name, value);
            return -1;
        }
        strcpy(dst, value);
        return 0;
    }
    case SPANK_OPT_DEDUP:
        if (value && *value) {
            if (strlen(value) >= sizeof req->dedup_file) {
                snprintf(err, errlen, "--gpu-dedup=%s: the path is too long", value);
                return -1;
            }
            snprintf(req->dedup_file, sizeof req->dedup_file, "%s", value);
        }
        req->dedup = true;
        return 0;
    case SPANK_OPT_ARTIFACTS:
        if (!value || !*value) {
            snprintf(err, errlen, "--gpu-artifacts: needs a DIR");
            return -1;
        }
        if (strlen(value) >= sizeof req->artifacts_dir - 64) { /* room for /JOB.STEP.TASK */
            snprintf(err, errlen, "--gpu-artifacts=%s: the path is too long", value);
            return -1;
        }
        snprintf(req->artifacts_dir, sizeof req->artifacts_dir, "%s", value);
        return 0;
    default:
        snprintf(err, errlen, "unknown option id %d", id);
        return -1;
    }
}
