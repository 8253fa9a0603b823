/* The GPU table's rows and the names of GPUs (see ledger_gpu.h). */
#include "ledger_gpu.h"

#include <ctype.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

_Static_assert(sizeof(struct grey_ledger_gpu) == 128, "a GPU row is two cache lines");

/* ---------------------------------------------------------------- names */

void grey_copy_cut(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

void grey_uuid_format(const unsigned char b[16], bool mig, char *out)
{
    snprintf(out, GREY_UUID_MAX,
             "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", mig ? "MIG" : "GPU", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* 8-4-4-4-12 hex digits; returns the text after it, or NULL. */
static const char *skip_uuid(const char *p)
{
    static const int groups[5] = {8, 4, 4, 4, 12};
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, p++)
            if (!isxdigit((unsigned char)*p))
                return NULL;
        if (g < 4 && *p++ != '-')
            return NULL;
    }
    return p;
}

static const char *skip_uint(const char *p)
{
    if (!isdigit((unsigned char)*p))
        return NULL;
    while (isdigit((unsigned char)*p))
        p++;
    return p;
}

bool grey_uuid_valid(const char *text)
{
    if (!text || strlen(text) >= GREY_UUID_MAX)
        return false;
    const char *p;
    if (strncmp(text, "GPU-", 4) == 0) {
        if ((p = skip_uuid(text + 4)) && !*p)
            return true;
        /* ROCm's form: "GPU-" and 16 hex digits (rocm-smi, hipDeviceGetUuid). */
        for (p = text + 4; isxdigit((unsigned char)*p); p++)
            ;
        return p - (text + 4) == 16 && !*p;
    }
    if (strncmp(text, "MIG-GPU-", 8) == 0) { /* MIG-GPU-<uuid>/<gpu instance>/<compute instance> */
        p = skip_uuid(text + 8);
        if (!p || *p++ != '/' || !(p = skip_uint(p)) || *p++ != '/' || !(p = skip_uint(p)))
            return false;
        return !*p;
    }
    if (strncmp(text, "MIG-", 4) == 0)
        return (p = skip_uuid(text + 4)) && !*p;
    return false;
}

bool grey_uuid_equal(const char *a, const char *b)
{
    return a[0] && strcasecmp(a, b) == 0;
}

int grey_pci_normalize(const char *text, char out[GREY_PCI_ID_MAX])
{
    unsigned domain = 0, bus, dev, fn;
    char tail;
    out[0] = '\0';
    if (!text)
        return -1;
    /* With a domain ("0000:17:00.0", "00000000:17:00.0") or without ("17:00.0"). */
    if (sscanf(text, "%x:%x:%x.%x%c", &domain, &bus, &dev, &fn, &tail) != 4 &&
        (domain = 0, sscanf(text, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3))
        return -1;
    if (domain > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
        return -1;
    snprintf(out, GREY_PCI_ID_MAX, "%04x:%02x:%02x.%x", domain, bus, dev, fn);
    return 0;
}

/* ---------------------------------------------------------------- rows */

static uint32_t row_state(const struct grey_ledger_gpu *r)
{
    return atomic_load_explicit(&((struct grey_ledger_gpu *)r)->state, memory_order_acquire);
}

static bool row_is(const struct grey_ledger_gpu *r, const char *uuid)
{
    char copy[GREY_UUID_MAX];
    memcpy(copy, r->uuid, sizeof copy);
    copy[sizeof copy - 1] = '\0'; /* the file is not trusted */
    return grey_uuid_equal(copy, uuid);
}

/* The row is the GPU id names: the same UUID, or, for whole GPUs, the same PCI address (one board
 * has one address, whatever text a vendor's runtime makes of its UUID; MIG instances share their
 * GPU's address, so they are told apart by UUID alone). */
static bool row_is_gpu(const struct grey_ledger_gpu *r, const struct grey_gpu_id *id)
{
    if (row_is(r, id->uuid))
        return true;
    if (!id->pci_bus_id[0] || strncmp(id->uuid, "MIG-", 4) == 0 || strncmp(r->uuid, "MIG-", 4) == 0)
        return false;
    char pci[GREY_PCI_ID_MAX];
    memcpy(pci, r->pci_bus_id, sizeof pci);
    pci[sizeof pci - 1] = '\0';
    return strcmp(pci, id->pci_bus_id) == 0;
}

int grey_gpu_row_find(const struct grey_ledger_gpu *rows, unsigned nrows, const char *uuid)
{
    for (unsigned r = 0; r < nrows; r++)
        if (row_state(&rows[r]) == GREY_GPU_ROW_READY && row_is(&rows[r], uuid))
            return (int)r;
    return -1;
}

void grey_gpu_row_id(const struct grey_ledger_gpu *row, struct grey_gpu_id *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->uuid, row->uuid, sizeof out->uuid);
    out->uuid[sizeof out->uuid - 1] = '\0';
    memcpy(out->pci_bus_id, row->pci_bus_id, sizeof out->pci_bus_id);
    out->pci_bus_id[sizeof out->pci_bus_id - 1] = '\0';
    memcpy(out->name, row->name, sizeof out->name);
    out->name[sizeof out->name - 1] = '\0';
    for (char *p = out->name; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            *p = '?';
    out->index = row->index;
    out->total_bytes = row->total_bytes;
}

/* The row lock: held by the row's claimer while it fills the row. */
static bool row_lock(int fd, uint64_t off, short type)
{
    if (fd < 0)
        return true;
    struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
    return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

/* A claimer that has not published its row: alive while it holds the row's lock. */
static bool claimer_alive(int fd, uint64_t off)
{
    if (fd < 0)
        return true; /* this process's own table: another thread of ours is filling it */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = (off_t)off, .l_len = 1};
    return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

static void fill(struct grey_ledger_gpu *r, const struct grey_gpu_id *id)
{
    r->index = id->index;
    r->total_bytes = id->total_bytes;
    grey_copy_cut(r->uuid, sizeof r->uuid, id->uuid);
    grey_copy_cut(r->pci_bus_id, sizeof r->pci_bus_id, id->pci_bus_id);
    grey_copy_cut(r->name, sizeof r->name, id->name);
    atomic_store_explicit(&r->state, GREY_GPU_ROW_READY, memory_order_release);
}

int grey_gpu_row(struct grey_ledger_gpu *rows, unsigned nrows, const struct grey_gpu_id *id, int lock_fd,
                 uint64_t (*row_offset)(unsigned r))
{
    if (!id->uuid[0] && !id->pci_bus_id[0])
        return -1;
    /* In ascending order, never past a row being claimed: so a second claimer of the same GPU
     * finds the first one's row instead of claiming another. */
    for (unsigned r = 0; r < nrows; r++) {
        struct grey_ledger_gpu *row = &rows[r];
        uint64_t off = row_offset ? row_offset(r) : 0;
        for (;;) {
            uint32_t st = row_state(row);
            /* A state grey never writes is damage done by someone else: neither used nor waited
             * for, so a broken row costs one row, not every claimer's progress. */
            if (st == GREY_GPU_ROW_READY || (st != GREY_GPU_ROW_FREE && st != GREY_GPU_ROW_CLAIMING))
                break;
            if (st == GREY_GPU_ROW_FREE) {
                if (!row_lock(lock_fd, off, F_WRLCK)) {
                    sched_yield(); /* another process is about to claim it */
                    continue;
                }
                uint32_t expected = GREY_GPU_ROW_FREE;
                bool mine = atomic_compare_exchange_strong(&row->state, &expected, GREY_GPU_ROW_CLAIMING);
                if (mine)
                    fill(row, id);
                row_lock(lock_fd, off, F_UNLCK);
                if (mine)
                    return (int)r;
                continue;
            }
            /* CLAIMING: wait for it to be published, or take it over from a dead claimer. */
            if (!claimer_alive(lock_fd, off) && row_lock(lock_fd, off, F_WRLCK)) {
                if (row_state(row) == GREY_GPU_ROW_CLAIMING) {
                    fill(row, id);
                    row_lock(lock_fd, off, F_UNLCK);
                    return (int)r;
                }
                row_lock(lock_fd, off, F_UNLCK);
                continue;
            }
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        if (row_state(row) == GREY_GPU_ROW_READY && row_is_gpu(row, id))
            return (int)r;
    }
    return -1;
}

const char *grey_gpu_label(const struct grey_gpu_id *id, char *buf, size_t len)
{
    if (!id->uuid[0] && id->index >= 0)
        snprintf(buf, len, "GPU %d", id->index);
    else if (!id->uuid[0])
        snprintf(buf, len, "a GPU without a UUID");
    else if (id->index >= 0)
        snprintf(buf, len, "GPU %d (%.12s)", id->index, id->uuid);
    else
        snprintf(buf, len, "%.12s", id->uuid);
    return buf;
}
