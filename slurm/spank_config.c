/* The plugstack.conf arguments: see spank_config.h. A typo in the admin's line fails every job
 * loudly rather than running jobs without the limits the admin wrote. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli_common.h"
#include "spank_config.h"

#define SHARDS_MAX 1024

static int put_path(char *dst, const char *key, const char *value, char *err, size_t errlen)
{
    if (value[0] != '/') {
        snprintf(err, errlen, "%s=%s: needs an absolute path", key, value);
        return -1;
    }
    if (strlen(value) >= PATH_MAX) {
        snprintf(err, errlen, "%s=: the path is too long", key);
        return -1;
    }
    strcpy(dst, value);
    return 0;
}

int spank_config_parse(int ac, char **av, struct spank_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < ac; i++) {
        const char *eq = strchr(av[i], '=');
        if (!eq) {
            snprintf(err, errlen, "argument '%s' is not KEY=VALUE (keys: hook, plan, default_cap, shards_per_gpu)",
                     av[i]);
            return -1;
        }
        char key[32];
        size_t klen = (size_t)(eq - av[i]);
        snprintf(key, sizeof key, "%.*s", (int)(klen < sizeof key ? klen : sizeof key - 1), av[i]);
        const char *value = eq + 1;
        if (strcmp(key, "hook") == 0) {
            if (put_path(out->hook, key, value, err, errlen) != 0)
                return -1;
        } else if (strcmp(key, "plan") == 0) {
            if (put_path(out->plan, key, value, err, errlen) != 0)
                return -1;
        } else if (strcmp(key, "default_cap") == 0) {
            char why[200];
            if (cli_check_size(value, &out->default_cap, why, sizeof why) != 0) {
                snprintf(err, errlen, "default_cap=%s: %s", value, why);
                return -1;
            }
            out->have_default_cap = true;
        } else if (strcmp(key, "shards_per_gpu") == 0) {
            char *end;
            unsigned long n = strtoul(value, &end, 10);
            if (!*value || *end || value[0] == '-' || n < 1 || n > SHARDS_MAX) {
                snprintf(err, errlen, "shards_per_gpu=%s: wants a whole number from 1 to %d", value, SHARDS_MAX);
                return -1;
            }
            out->shards_per_gpu = (unsigned)n;
        } else {
            snprintf(err, errlen, "unknown argument '%s' (keys: hook, plan, default_cap, shards_per_gpu)", key);
            return -1;
        }
    }
    if (!out->hook[0]) {
        snprintf(err, errlen, "hook=PATH (the path of libgreyhook.so) is required");
        return -1;
    }
    return 0;
}
