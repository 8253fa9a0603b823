/* VMM allocations shared between processes (sim_usage.h): once exported, an allocation's bytes
 * leave its creator's slot for a row of the shared table, counted once for the node, and stay
 * there while any process holds the allocation (a reference or a mapping), as the driver keeps
 * the memory until the last one on the node lets go (cuMemRelease: "freed when all outstanding
 * mappings ... are unmapped and ... all outstanding references to the handle are released").
 *
 * A row's holders are (slot, owner word) pairs: a holder is alive while owner[slot] still holds
 * that word and its owner's lock (sim_usage_alive), so a process that is killed stops holding at
 * once, in whatever PID namespace, without anyone cleaning up after it; whoever next reads the
 * table drops such holders and frees a row none is left in.
 *
 * Every change to the table is made under one lock: a mutex between this process's threads and
 * the write lock on byte SIM_STATE_SHARED_LOCK of the state file between processes (an
 * open-file-description lock, which the kernel drops with a process that dies holding it). Sums
 * read the table without it: a row is filled before its key is set and emptied after its key is
 * cleared, and its bytes never change in between. */
#include "sim_state.h"
#include "sim_trace.h"
#include "sim_usage.h"

#include <fcntl.h>
#include <pthread.h>

static pthread_mutex_t shared_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* A child forked while another thread held the mutex would wait for it forever. */
static void child_mutex(void) { pthread_mutex_init(&shared_mutex, NULL); }
static void register_atfork(void) { pthread_atfork(NULL, NULL, child_mutex); }

static void table_lock(void)
{
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&shared_mutex);
    int fd = sim_usage_lock_fd();
    struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = SIM_STATE_SHARED_LOCK, .l_len = 1};
    if (fd >= 0)
        while (fcntl(fd, F_OFD_SETLKW, &l) != 0) /* only EINTR: the lock is on our own file */
            ;
}

static void table_unlock(void)
{
    int fd = sim_usage_lock_fd();
    struct flock l = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = SIM_STATE_SHARED_LOCK, .l_len = 1};
    if (fd >= 0)
        fcntl(fd, F_OFD_SETLK, &l);
    pthread_mutex_unlock(&shared_mutex);
}

static bool holder_alive(const struct sim_state_holder *h)
{
    uint64_t w = atomic_load(&h->word);
    return w != 0 && sim_usage_alive(atomic_load(&h->slot), w);
}

static void holder_clear(struct sim_state_holder *h)
{
    atomic_store(&h->word, 0);
    atomic_store(&h->slot, 0);
}

/* Under the lock: drops row's dead holders and frees it when none is left; whether it is in use. */
static bool row_prune(struct sim_state_shared *row)
{
    if (atomic_load(&row->key) == 0)
        return false;
    bool any = false;
    for (int h = 0; h < SIM_SHARED_HOLDERS; h++) {
        if (holder_alive(&row->holder[h]))
            any = true;
        else
            holder_clear(&row->holder[h]);
    }
    if (!any) {
        atomic_store(&row->key, 0);
        atomic_store(&row->bytes, 0);
        atomic_store(&row->phys, 0);
    }
    return any;
}

/* Under the lock: the live row for key, or NULL. */
static struct sim_state_shared *row_find(struct sim_state *s, uint64_t key)
{
    for (int r = 0; r < SIM_SHARED_ROWS; r++)
        if (atomic_load(&s->shared[r].key) == key && row_prune(&s->shared[r]))
            return &s->shared[r];
    return NULL;
}

/* Under the lock: this process (slot, word) among row's holders; false when the row is full. */
static bool row_join(struct sim_state_shared *row, int slot, uint64_t word)
{
    int free_at = -1;
    for (int h = 0; h < SIM_SHARED_HOLDERS; h++) {
        uint64_t w = atomic_load(&row->holder[h].word);
        if (w == word && atomic_load(&row->holder[h].slot) == slot)
            return true;
        if (w == 0 && free_at < 0)
            free_at = h;
    }
    if (free_at < 0)
        return false;
    atomic_store(&row->holder[free_at].slot, slot);
    atomic_store(&row->holder[free_at].word, word);
    return true;
}

int sim_shared_export(int phys, uint64_t key, uint64_t n)
{
    uint64_t word;
    int slot = sim_usage_self(&word);
    if (slot < 0 || key == 0)
        return -1;
    struct sim_state *s = sim_state();
    bool ok = false;
    table_lock();
    struct sim_state_shared *row = row_find(s, key);
    if (row) { /* exported before (by this process or by one that imported it) */
        ok = row_join(row, slot, word);
        table_unlock();
        return ok ? 0 : -1;
    }
    for (int r = 0; r < SIM_SHARED_ROWS && !ok; r++) {
        row = &s->shared[r];
        if (atomic_load(&row->key) != 0 && row_prune(row))
            continue;
        atomic_store(&row->bytes, n);
        atomic_store(&row->phys, phys);
        row_join(row, slot, word);
        atomic_store(&row->key, key); /* counted from here on, before it leaves the slot */
        sim_usage_release(phys, n);
        ok = true;
    }
    table_unlock();
    if (!ok)
        sim_trace("shared: all %d rows of exported allocations are taken", SIM_SHARED_ROWS);
    return ok ? 1 : -1;
}

bool sim_shared_import(uint64_t key, int *phys, uint64_t *n)
{
    uint64_t word;
    int slot = sim_usage_self(&word);
    if (slot < 0 || key == 0)
        return false;
    table_lock();
    struct sim_state_shared *row = row_find(sim_state(), key);
    bool ok = row && row_join(row, slot, word);
    if (ok) {
        *phys = atomic_load(&row->phys);
        *n = atomic_load(&row->bytes);
    }
    table_unlock();
    if (row && !ok)
        sim_trace("shared: %d processes hold one allocation already", SIM_SHARED_HOLDERS);
    return ok;
}

void sim_shared_leave(uint64_t key)
{
    uint64_t word;
    int slot = sim_usage_self(&word);
    if (slot < 0 || key == 0)
        return;
    table_lock();
    struct sim_state_shared *row = row_find(sim_state(), key);
    for (int h = 0; row && h < SIM_SHARED_HOLDERS; h++)
        if (atomic_load(&row->holder[h].word) == word && atomic_load(&row->holder[h].slot) == slot)
            holder_clear(&row->holder[h]);
    if (row)
        row_prune(row);
    table_unlock();
}

void sim_shared_prune(void)
{
    struct sim_state *s = sim_state();
    table_lock();
    for (int r = 0; r < SIM_SHARED_ROWS; r++)
        row_prune(&s->shared[r]);
    table_unlock();
}

uint64_t sim_shared_sum(int phys)
{
    struct sim_state *s = sim_state();
    uint64_t sum = 0;
    for (int r = 0; r < SIM_SHARED_ROWS; r++) {
        struct sim_state_shared *row = &s->shared[r];
        if (atomic_load(&row->key) != 0 && atomic_load(&row->phys) == phys) {
            uint64_t b = atomic_load(&row->bytes);
            sum = sum + b < sum ? UINT64_MAX : sum + b;
        }
    }
    return sum;
}
