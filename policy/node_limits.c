#include "node_limits.h"

#include <fcntl.h>
#include <string.h>

#include "errmsg.h"

void grey_node_limits_init(struct grey_node_limits *l)
{
    memset(l, 0, sizeof *l);
    memcpy(l->magic, GREY_NODE_LIMITS_MAGIC, sizeof l->magic);
    l->version = GREY_NODE_LIMITS_VERSION;
    l->size = sizeof *l;
    for (int r = 0; r < GREY_MAX_DEVICES; r++)
        l->row[r].budget = l->row[r].process_cap = UINT64_MAX;
}

int grey_node_limits_validate(const struct grey_node_limits *l, size_t size, char *err, size_t errlen)
{
    if (size != sizeof *l)
        return grey_error(err, errlen, "limits: %zu bytes, expected %zu", size, sizeof *l);
    if (memcmp(l->magic, GREY_NODE_LIMITS_MAGIC, sizeof l->magic) != 0)
        return grey_error(err, errlen, "limits: bad magic");
    if (l->version != GREY_NODE_LIMITS_VERSION || l->size != sizeof *l)
        return grey_error(err, errlen, "limits: layout version %u, this grey reads %u", l->version,
                          GREY_NODE_LIMITS_VERSION);
    if (l->nrows > GREY_MAX_DEVICES)
        return grey_error(err, errlen, "limits: %u rows, at most %d", l->nrows, GREY_MAX_DEVICES);
    for (unsigned r = 0; r < l->nrows; r++)
        if (!memchr(l->row[r].uuid, '\0', sizeof l->row[r].uuid))
            return grey_error(err, errlen, "limits: row %u has no terminated UUID", r);
    return 0;
}

int grey_node_limits_find(const struct grey_node_limits *l, const char *uuid)
{
    if (!uuid || !uuid[0])
        return -1;
    for (unsigned r = 0; r < l->nrows && r < GREY_MAX_DEVICES; r++)
        if (grey_uuid_equal(l->row[r].uuid, uuid))
            return (int)r;
    return -1;
}

/* F_SEAL_SEAL on both: without it, a member could add F_SEAL_WRITE to the ledger while no one has
 * it mapped, and every process after would fail to map it writable. */
unsigned grey_node_limits_seals(void) { return F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE; }
unsigned grey_node_ledger_seals(void) { return F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW; }
