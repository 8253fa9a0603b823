#include "symbolize.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* addresses per addr2line run: well under any command-line limit */
#define BATCH 256

struct entry {
    char *module;
    uint64_t offset;
    bool resolved;
    struct grey_symbol sym;
};

struct grey_symbolizer {
    struct entry *e;
    size_t n, cap;
    bool sorted;
};

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int c = strcmp(x->module, y->module);
    if (c)
        return c;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

struct grey_symbolizer *grey_symbolizer_new(void) { return calloc(1, sizeof(struct grey_symbolizer)); }

void grey_symbolizer_free(struct grey_symbolizer *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].module);
        free(s->e[i].sym.function);
        free(s->e[i].sym.file);
    }
    free(s->e);
    free(s);
}

void grey_symbolizer_add(struct grey_symbolizer *s, const char *module, uint64_t offset)
{
    if (!s || !module)
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct entry *e = realloc(s->e, cap * sizeof *e);
        if (!e)
            return;
        s->e = e;
        s->cap = cap;
    }
    char *m = strdup(module);
    if (!m)
        return;
    s->e[s->n++] = (struct entry){.module = m, .offset = offset};
    s->sorted = false;
}

void grey_symbol_parse(const char *function_line, const char *location_line, struct grey_symbol *sym)
{
    memset(sym, 0, sizeof *sym);
    if (function_line && *function_line && strcmp(function_line, "??") != 0)
        sym->function = strdup(function_line);
    if (!location_line || strncmp(location_line, "??", 2) == 0)
        return;
    char *loc = strdup(location_line);
    if (!loc)
        return;
    char *disc = strstr(loc, " (discriminator");
    if (disc)
        *disc = '\0';
    char *colon = strrchr(loc, ':');
    if (colon) {
        *colon = '\0';
        char *end;
        unsigned long line = strtoul(colon + 1, &end, 10);
        sym->line = (*end == '\0') ? (unsigned)line : 0;
    }
    if (*loc && strcmp(loc, "??") != 0)
        sym->file = strdup(loc);
    free(loc);
}

/* Runs addr2line on n entries of one module and stores what it says. */
static void run_batch(struct entry *e, size_t n)
{
    const char *tool = getenv("GREY_ADDR2LINE");
    if (!tool || !*tool)
        tool = "addr2line";
    char *argv[BATCH + 8];
    char addrs[BATCH][24];
    size_t a = 0;
    argv[a++] = (char *)tool;
    argv[a++] = "-f";
    argv[a++] = "-C";
    argv[a++] = "-e";
    argv[a++] = e[0].module;
    for (size_t i = 0; i < n; i++) {
        /* A return address points after the call; the call itself is one byte before. */
        snprintf(addrs[i], sizeof addrs[i], "0x%llx", (unsigned long long)(e[i].offset ? e[i].offset - 1 : 0));
        argv[a++] = addrs[i];
    }
    argv[a] = NULL;

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, tool, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        close(out[0]);
        return;
    }
    FILE *f = fdopen(out[0], "r");
    if (!f) {
        close(out[0]);
        waitpid(pid, NULL, 0);
        return;
    }
    char *fn = NULL, *loc = NULL;
    size_t fncap = 0, loccap = 0;
    for (size_t i = 0; i < n; i++) {
        ssize_t l1 = getline(&fn, &fncap, f), l2 = l1 >= 0 ? getline(&loc, &loccap, f) : -1;
        if (l1 < 0 || l2 < 0)
            break;
        fn[strcspn(fn, "\n")] = '\0';
        loc[strcspn(loc, "\n")] = '\0';
        grey_symbol_parse(fn, loc, &e[i].sym);
    }
    free(fn);
    free(loc);
    fclose(f);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
}

void grey_symbolizer_resolve(struct grey_symbolizer *s)
{
    if (!s || s->n == 0)
        return;
    qsort(s->e, s->n, sizeof *s->e, cmp_entry);
    /* Duplicates collapse to their first copy. */
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (w > 0 && cmp_entry(&s->e[w - 1], &s->e[i]) == 0) {
            free(s->e[i].module);
            continue;
        }
        s->e[w++] = s->e[i];
    }
    s->n = w;
    s->sorted = true;
    for (size_t i = 0; i < s->n;) {
        size_t j = i;
        while (j < s->n && j - i < BATCH && strcmp(s->e[j].module, s->e[i].module) == 0 && !s->e[j].resolved)
            j++;
        if (j == i) {
            i++;
            continue;
        }
        if (access(s->e[i].module, R_OK) == 0)
            run_batch(&s->e[i], j - i);
        for (size_t k = i; k < j; k++)
            s->e[k].resolved = true;
        i = j;
    }
}

const struct grey_symbol *grey_symbolizer_get(const struct grey_symbolizer *s, const char *module, uint64_t offset)
{
    static const struct grey_symbol none;
    if (!s || !s->sorted || !module)
        return &none;
    struct entry key = {.module = (char *)module, .offset = offset};
    const struct entry *e = bsearch(&key, s->e, s->n, sizeof key, cmp_entry);
    return e ? &e->sym : &none;
}
