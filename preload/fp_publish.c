/* This process's section of the node's fingerprint table (fp_publish.h, policy/fp_table.h).
 *
 * The table is made whole under a temporary name beside its path (policy/safe_file.c: an
 * unpredictable name, O_EXCL, mode 0600), sized, given its header and link(2)ed into place, so
 * no process maps a half-made one; a process that loses the race maps the winner's. An existing
 * file is opened without following symlinks and mapped only when its size and header match the
 * ledger's slots. Whatever fails is said once (GREY_LOG) and the process simply does not publish. */
#include "fp_publish.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/process.h"
#include "core/settings.h"
#include "policy/file_owner.h"
#include "policy/fp_table.h"
#include "policy/safe_file.h"
#include "policy/ticks.h"
#include "policy/tracker.h"
#include "shim/track.h"

static void *table;
static size_t table_len;
static uint32_t my_index;
static bool tried;

/* A new table under a temporary name, linked into place; 0 when path holds a table now (ours or
 * another process's). */
static int create_table(const char *path, uint32_t nslots, char *err, size_t errlen)
{
    char tmp[4200];
    int fd = grey_safe_temp_beside(path, 0600, tmp, sizeof tmp, err, errlen);
    if (fd < 0)
        return -1;
    struct grey_fpt_header h = {.magic = GREY_FPT_MAGIC, .version = GREY_FPT_VERSION, .sections = nslots};
    int rc = ftruncate(fd, (off_t)grey_fpt_size(nslots)) == 0 && pwrite(fd, &h, sizeof h, 0) == (ssize_t)sizeof h ? 0 : -1;
    if (rc == 0 && link(tmp, path) != 0 && errno != EEXIST)
        rc = -1;
    if (rc != 0)
        snprintf(err, errlen, "cannot make %s: %s", path, strerror(errno));
    unlink(tmp);
    close(fd);
    return rc;
}

static void map_table(void)
{
    char ledger[4096], path[4200], err[4400];
    uint32_t nslots;
    if (!grey_process_ledger_slot(ledger, sizeof ledger, &my_index, &nslots) || !grey_fpt_path(ledger, path, sizeof path))
        return; /* a private slot: no node to share with */
    struct stat st;
    bool created;
    int fd = grey_safe_open(path, O_RDWR, false, 0600, &st, &created, err, sizeof err);
    if (fd < 0 && create_table(path, nslots, err, sizeof err) == 0)
        fd = grey_safe_open(path, O_RDWR, false, 0600, &st, &created, err, sizeof err);
    if (fd < 0) {
        grey_log("fingerprints not published: %s", err);
        return;
    }
    /* Ours, or the service's (root's, not writable by every user): a table another user planted
     * could be shrunk under our mapping (a SIGBUS in the host program) or read by its owner. */
    if (st.st_uid != geteuid() && (!grey_owner_is_root(st.st_uid) || (st.st_mode & S_IWOTH))) {
        grey_log("fingerprints not published: %s: owned by uid %u%s, not by this user or root's service", path,
                 (unsigned)st.st_uid, (st.st_mode & S_IWOTH) ? " and writable by every user" : "");
        close(fd);
        return;
    }
    size_t len = grey_fpt_size(nslots);
    void *m = (size_t)st.st_size == len ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd);
    const char *bad = m == MAP_FAILED ? "its size does not match the ledger" : grey_fpt_check(m, len);
    if (bad) {
        grey_log("fingerprints not published: %s: %s", path, bad);
        if (m != MAP_FAILED)
            munmap(m, len);
        return;
    }
    table = m;
    table_len = len;
}

/* The largest entries kept, smallest first replaced. */
static void keep(struct grey_fpt_entry *best, uint32_t *n, const struct grey_buffer_info *b)
{
    struct grey_fpt_entry e = {.fp = b->fp, .bytes = b->bytes, .addr = b->addr, .row = b->device};
    if (*n < GREY_FPT_ENTRIES) {
        best[(*n)++] = e;
        return;
    }
    uint32_t smallest = 0;
    for (uint32_t i = 1; i < *n; i++)
        if (best[i].bytes < best[smallest].bytes)
            smallest = i;
    if (best[smallest].bytes < e.bytes)
        best[smallest] = e;
}

void grey_fp_publish(void)
{
    if (!tried) {
        tried = true;
        map_table();
    }
    if (!table)
        return;
    static struct grey_buffer_info batch[256];
    struct grey_fpt_entry best[GREY_FPT_ENTRIES];
    uint32_t n = 0;
    uint32_t pass = tracker_next_pass();
    size_t got;
    while ((got = tracker_collect(pass, batch, sizeof batch / sizeof batch[0])) > 0)
        for (size_t i = 0; i < got; i++)
            if (batch[i].fp_source != GREY_FP_NONE && !batch[i].fp_stale && batch[i].bytes >= GREY_FPT_MIN_BYTES &&
                grey_api_kind(batch[i].api) == GREY_RAW_PTR)
                keep(best, &n, &batch[i]);
    struct grey_fpt_section *sections = (struct grey_fpt_section *)((char *)table + sizeof(struct grey_fpt_header));
    grey_fpt_publish(&sections[my_index], (int32_t)getpid(), grey_settings()->run_id, grey_mono_ns(), best, n);
}

void grey_fp_publish_fork_child(void)
{
    if (table)
        munmap(table, table_len);
    table = NULL;
    tried = false;
}
