/* Finding AMD GPUs (see detect_amd.h). Read-only file and process work in the tools, never in the
 * hook: the amdgpu driver publishes each GPU's memory in sysfs (documented in the kernel's
 * amdgpu driver documentation: mem_info_vram_total / mem_info_vram_used, in bytes), and rocm-smi
 * reports the same in JSON. */
#include "detect_amd.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "policy/errmsg.h"

#define AMD_VENDOR_ID "0x1002"
#define MAX_CARDS 64

/* The first line of a small file, without trailing white space; -1 when it cannot be read. */
static int read_line(const char *dir, const char *name, char *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *ok = fgets(buf, (int)len, f);
    fclose(f);
    if (!ok)
        return -1;
    size_t n = strlen(buf);
    while (n && isspace((unsigned char)buf[n - 1]))
        buf[--n] = '\0';
    return 0;
}

/* A whole non-negative decimal number, as the amdgpu byte counters are written. */
static int parse_bytes(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)*text))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

/* "card<digits>" exactly (not "card0-DP-1", a connector, nor "renderD128"); its number in *n. */
static bool card_number(const char *name, int *n)
{
    if (strncmp(name, "card", 4) != 0 || !isdigit((unsigned char)name[4]))
        return false;
    char *end;
    long v = strtol(name + 4, &end, 10);
    if (*end || v < 0 || v > 1 << 20)
        return false;
    *n = (int)v;
    return true;
}

static int by_number(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void fill_uuid(struct grey_detected_device *d, const char *unique_id)
{
    const char *hex = strncmp(unique_id, "0x", 2) == 0 ? unique_id + 2 : unique_id;
    if (*hex && strcmp(unique_id, "N/A") != 0)
        snprintf(d->uuid, sizeof d->uuid, "GPU-%.40s", hex);
}

int grey_detect_amd_sysfs(const char *root, struct grey_detected_device *out, int max, char *err, size_t errlen)
{
    char drm[4096];
    snprintf(drm, sizeof drm, "%s/class/drm", root);
    DIR *dir = opendir(drm);
    if (!dir)
        return 0; /* no DRM devices at all */
    int cards[MAX_CARDS], ncards = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && ncards < MAX_CARDS) {
        int n;
        if (card_number(e->d_name, &n))
            cards[ncards++] = n;
    }
    closedir(dir);
    qsort(cards, (size_t)ncards, sizeof cards[0], by_number);

    int count = 0;
    for (int i = 0; i < ncards && count < max; i++) {
        char dev[4200], line[256];
        snprintf(dev, sizeof dev, "%s/card%d/device", drm, cards[i]);
        if (read_line(dev, "vendor", line, sizeof line) != 0 || strcasecmp(line, AMD_VENDOR_ID) != 0)
            continue;
        if (read_line(dev, "mem_info_vram_total", line, sizeof line) != 0)
            continue; /* an AMD display device without the amdgpu memory counters */
        struct grey_detected_device *d = &out[count];
        memset(d, 0, sizeof *d);
        d->index = count;
        if (parse_bytes(line, &d->vram_total) != 0 || d->vram_total == 0)
            return grey_error(err, errlen, "%s/mem_info_vram_total: '%s' is not a size in bytes", dev, line);
        uint64_t used = 0;
        if (read_line(dev, "mem_info_vram_used", line, sizeof line) == 0 && parse_bytes(line, &used) != 0)
            return grey_error(err, errlen, "%s/mem_info_vram_used: '%s' is not a size in bytes", dev, line);
        d->vram_free = used < d->vram_total ? d->vram_total - used : 0;
        if (read_line(dev, "product_name", line, sizeof line) == 0 && *line)
            snprintf(d->name, sizeof d->name, "%.*s", (int)sizeof d->name - 1, line);
        else if (read_line(dev, "device", line, sizeof line) == 0)
            snprintf(d->name, sizeof d->name, "AMD GPU %.16s", line);
        else
            snprintf(d->name, sizeof d->name, "AMD GPU");
        if (read_line(dev, "unique_id", line, sizeof line) == 0)
            fill_uuid(d, line);
        snprintf(d->source, sizeof d->source, "amdgpu sysfs");
        count++;
    }
    return count;
}

/* A string member of a rocm-smi card object, trying each spelling rocm-smi versions used. */
static const char *member(const cJSON *card, const char *const *keys)
{
    for (; *keys; keys++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(card, *keys);
        if (cJSON_IsString(v) && v->valuestring)
            return v->valuestring;
    }
    return NULL;
}

int grey_detect_amd_rocm_smi_json(const char *json, struct grey_detected_device *out, int max, char *err,
                                  size_t errlen)
{
    static const char *const total_keys[] = {"VRAM Total Memory (B)", NULL};
    static const char *const used_keys[] = {"VRAM Total Used Memory (B)", NULL};
    static const char *const name_keys[] = {"Card Series", "Card series", "Card Model", "Card model", NULL};
    static const char *const uid_keys[] = {"Unique ID", NULL};
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return grey_error(err, errlen, "rocm-smi --json: not a JSON object");
    }
    int cards[MAX_CARDS], ncards = 0;
    const cJSON *card;
    cJSON_ArrayForEach(card, root) {
        int n;
        if (ncards < MAX_CARDS && card->string && card_number(card->string, &n) && cJSON_IsObject(card))
            cards[ncards++] = n;
    }
    qsort(cards, (size_t)ncards, sizeof cards[0], by_number);
    int count = 0;
    for (int i = 0; i < ncards && count < max; i++) {
        char key[32];
        snprintf(key, sizeof key, "card%d", cards[i]);
        card = cJSON_GetObjectItemCaseSensitive(root, key);
        const char *total = member(card, total_keys), *used = member(card, used_keys);
        const char *name = member(card, name_keys), *uid = member(card, uid_keys);
        struct grey_detected_device *d = &out[count];
        memset(d, 0, sizeof *d);
        d->index = count;
        uint64_t u = 0;
        if (!total || parse_bytes(total, &d->vram_total) != 0 || d->vram_total == 0 ||
            (used && parse_bytes(used, &u) != 0)) {
            cJSON_Delete(root);
            return grey_error(err, errlen, "rocm-smi --json: %s has no VRAM size in bytes (run it with --showmeminfo vram)",
                             key);
        }
        d->vram_free = u < d->vram_total ? d->vram_total - u : 0;
        snprintf(d->name, sizeof d->name, "%s", name && *name ? name : "AMD GPU");
        if (uid)
            fill_uuid(d, uid);
        snprintf(d->source, sizeof d->source, "rocm-smi");
        count++;
    }
    cJSON_Delete(root);
    return count;
}

/* rocm-smi's output, run from PATH; NULL when it cannot be run or says nothing. */
static char *run_rocm_smi(void)
{
    FILE *p = popen("rocm-smi --showproductname --showmeminfo vram --showuniqueid --json 2>/dev/null", "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len - 1, p);
        len += n;
        if (n == 0)
            break;
        if (len + 1 == cap) { /* grow, up to 16 MiB: rocm-smi's JSON is a few KiB per GPU */
            char *bigger = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
            if (!bigger)
                free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    int status = pclose(p);
    if (!buf || status != 0 || len == 0) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

int grey_detect_amd(struct grey_detected_device *out, int max, char *err, size_t errlen)
{
    const char *root = getenv("GREY_SYSFS_ROOT");
    int n = grey_detect_amd_sysfs(root && *root ? root : "/sys", out, max, err, errlen);
    if (n != 0)
        return n;
    char *json = run_rocm_smi();
    if (!json)
        return grey_error(err, errlen, "no AMD GPU in %s/class/drm and no rocm-smi", root && *root ? root : "/sys");
    n = grey_detect_amd_rocm_smi_json(json, out, max, err, errlen);
    free(json);
    if (n == 0)
        return grey_error(err, errlen, "rocm-smi reports no AMD GPU");
    return n;
}

int grey_detect_gpus(struct grey_detected_device *out, int max, char *err, size_t errlen)
{
    char cuda_err[256], amd_err[256];
    int n = grey_detect_cuda(out, max, cuda_err, sizeof cuda_err);
    if (n > 0)
        return n;
    int m = grey_detect_amd(out, max, amd_err, sizeof amd_err);
    if (m > 0)
        return m;
    if (n == 0)
        return 0; /* a CUDA driver with no devices, and no AMD GPU either */
    return grey_error(err, errlen, "%s; %s", cuda_err, amd_err);
}
