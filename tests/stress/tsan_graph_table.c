/* The hook's graph table (shim/graph_table.c) under ThreadSanitizer: readers look records up and
 * read them, as launches do, while writers insert, replace and remove them, as instantiations
 * and destructions do. TSan reports a record freed while a reader may still read it (the build
 * makes any report fatal); the program itself checks that every reader saw a whole, live record
 * of the key it asked for, and that every record made was freed exactly once by the end.
 * Exit 0 when every check held. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim/graph_table.h"

#define READERS 3
#define WRITERS 2
#define KEYS 96          /* few keys, so that lookups and removals meet on the same records */
#define WRITER_ROUNDS 20000
#define MAGIC 0x4752455952454321ull

struct record {
    struct grey_graph_entry entry;
    uint64_t magic, key, words[4];
};

static _Atomic long made, freed, found, bad;
static atomic_bool writers_done;

static void destroy(struct grey_graph_entry *e)
{
    struct record *r = (struct record *)e;
    r->magic = 0; /* a reader still reading would race with this, and with the free */
    free(r);
    freed++;
}

/* Handles are heap addresses, 16-byte aligned. Half of the keys share one bucket, so that readers
 * walk chains through records being unlinked: they are aimed with the table's hash, copied here
 * (main checks that they did meet). */
static uintptr_t keys[KEYS];

static unsigned bucket_of(uintptr_t key)
{
    return (unsigned)(((uint64_t)(key >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - 12));
}

static void make_keys(void)
{
    const uint64_t base = 0x7f0000000000ull;
    unsigned n = 0;
    for (uint64_t i = 0; n < KEYS / 2; i++)
        if (bucket_of(base + (i << 4)) == bucket_of(base))
            keys[n++] = base + (i << 4);
    for (uint64_t i = 1; n < KEYS; i++)
        keys[n++] = base + 0x100000000ull + (i << 4);
}

static uintptr_t key_of(unsigned i)
{
    return keys[i];
}

static unsigned next_rand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static void *writer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int i = 0; i < WRITER_ROUNDS; i++) {
        uintptr_t key = key_of(next_rand(&seed) % KEYS);
        if (next_rand(&seed) % 3 == 0) {
            grey_graph_remove(key);
            continue;
        }
        struct record *r = malloc(sizeof *r);
        if (!r)
            abort();
        *r = (struct record){.magic = MAGIC, .key = key, .words = {key, ~key, key ^ MAGIC, 1}};
        r->entry.destroy = destroy;
        made++;
        grey_graph_insert(&r->entry, key); /* replaces, like a recycled exec handle */
    }
    return NULL;
}

static void *reader(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&writers_done)) {
        uintptr_t key = key_of(next_rand(&seed) % KEYS);
        struct grey_graph_entry *e = grey_graph_get(key);
        if (!e)
            continue;
        const struct record *r = (const struct record *)e;
        if (r->magic != MAGIC || r->key != key || r->words[0] != key || r->words[1] != ~key ||
            r->words[2] != (key ^ MAGIC))
            bad++;
        found++;
        grey_graph_put(e);
    }
    return NULL;
}

int main(void)
{
    pthread_t w[WRITERS], r[READERS];
    make_keys();
    for (int i = 0; i < READERS; i++)
        pthread_create(&r[i], NULL, reader, (void *)(uintptr_t)(100 + i));
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)(1 + i));
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    atomic_store(&writers_done, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(r[i], NULL);
    for (unsigned k = 0; k < KEYS; k++)
        grey_graph_remove(key_of(k));

    struct grey_graph_stats s;
    grey_graph_stats(&s);
    int failures = 0;
    if (bad) {
        printf("FAIL: %ld lookups saw a record that was not the live one of their key\n", (long)bad);
        failures++;
    }
    if (found == 0) {
        printf("FAIL: the readers never found a record\n");
        failures++;
    }
    if (made != freed || s.live != 0 || s.inserted != (uint64_t)made) {
        printf("FAIL: %ld records made, %ld freed, %llu inserted, %u left in the table\n", (long)made, (long)freed,
               (unsigned long long)s.inserted, s.live);
        failures++;
    }
    if (s.max_chain < 2) {
        printf("FAIL: no two records ever shared a chain (has the table's hash changed?)\n");
        failures++;
    }
    printf("tsan_graph_table: %ld records made and freed, %ld lookups found one, longest chain %u: %s\n",
           (long)made, (long)found, s.max_chain, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
