/* A ledger received as a descriptor rather than opened by path (see grey_ledger_open_fd). */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "node_limits.h"

int grey_ledger_open_fd(int fd, const char *name, struct grey_ledger *lg, char *err, size_t errlen)
{
    memset(lg, 0, sizeof *lg);
    lg->fd = -1;
    lg->own = lg->own_run = -1;
    /* The seals are what make the mapping safe to touch: without F_SEAL_SHRINK a member could
     * truncate the file and every access would fault; without F_SEAL_SEAL one could seal it
     * against writing and lock every later process out. */
    int seals = fcntl(fd, F_GET_SEALS);
    unsigned want = grey_node_ledger_seals();
    if (seals < 0 || ((unsigned)seals & want) != want)
        return grey_error(err, errlen, "ledger from %s: not sealed against truncation (seals %#x); refusing it", name,
                          seals < 0 ? 0u : (unsigned)seals);
    if ((unsigned)seals & F_SEAL_WRITE)
        return grey_error(err, errlen, "ledger from %s: sealed against writing; refusing it", name);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return grey_error(err, errlen, "ledger from %s: cannot stat: %s", name, strerror(errno));
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size != GREY_LEDGER_TOTAL_SIZE)
        return grey_error(err, errlen, "ledger from %s: %lld bytes, expected %zu; refusing it", name,
                          (long long)st.st_size, (size_t)GREY_LEDGER_TOTAL_SIZE);
    size_t size = (size_t)st.st_size;
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return grey_error(err, errlen, "ledger from %s: cannot map: %s", name, strerror(errno));
    char why[256];
    if (grey_ledger_validate(base, size, why, sizeof why) != 0) {
        munmap(base, size);
        return grey_error(err, errlen, "ledger from %s: %s", name, why);
    }
    lg->header = base;
    lg->slots = (struct grey_slot *)((char *)base + sizeof(struct grey_ledger_header));
    lg->nslots = GREY_LEDGER_SLOTS;
    lg->map_size = size;
    lg->writable = true;
    lg->fd = fd;
    return 0;
}
