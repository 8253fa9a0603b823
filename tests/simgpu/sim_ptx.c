/* The module-scope symbols of a PTX text (sim_fatbin.h): its kernels (.entry functions) and its
 * global variables (.global and .const, with their sizes), as the PTX ISA (docs.nvidia.com/cuda/
 * parallel-thread-execution, "Directives" and "State Spaces, Types, and Variables") declares
 * them: [.visible|.weak|.extern] .global|.const [.align N] [.v2|.v4] .TYPE name[N]... [= init];
 * and [.visible|.weak] .entry name (params) [performance directives] { body }.
 * The simulator runs no code, so nothing else is read: function bodies are skipped by matching
 * braces, comments and strings are skipped, and a declaration whose size cannot be known (an
 * array with an empty dimension, an unknown type) or that only refers to another module's symbol
 * (.extern) is left out. The fatbins cuFFT 12 loads at run time carry PTX only for some of its
 * kernels, and it reads the PTX's lut_sp variable (8 bytes) after loading. */
#include "sim_fatbin.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A statement longer than this is cut: what matters (directives, the name) comes first. */
#define STATEMENT_MAX 1024

static size_t type_bytes(const char *t, size_t n)
{
    static const struct {
        const char *name;
        size_t bytes;
    } types[] = {
        {"b8", 1},  {"u8", 1},  {"s8", 1},  {"b16", 2}, {"u16", 2},  {"s16", 2}, {"f16", 2},
        {"bf16", 2}, {"b32", 4}, {"u32", 4}, {"s32", 4}, {"f32", 4},  {"f16x2", 4}, {"bf16x2", 4},
        {"b64", 8}, {"u64", 8}, {"s64", 8}, {"f64", 8}, {"b128", 16},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].name) == n && memcmp(types[i].name, t, n) == 0)
            return types[i].bytes;
    return 0;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c == '%';
}

/* Whether the statement s (NUL-terminated) has the directive word d (".global") as a token. */
static const char *find_token(const char *s, const char *d)
{
    size_t n = strlen(d);
    for (const char *p = strstr(s, d); p; p = strstr(p + 1, d))
        if ((p == s || is_space(p[-1])) && !is_name_char(p[n]) && p[n] != '.')
            return p;
    return NULL;
}

/* ".entry name(" : reports name. */
static size_t entry_statement(const char *s, const sim_image_symbols *to)
{
    const char *p = find_token(s, ".entry");
    if (!p || find_token(s, ".extern"))
        return 0;
    p += strlen(".entry");
    while (is_space(*p))
        p++;
    const char *name = p;
    while (is_name_char(*p))
        p++;
    if (p == name)
        return 0;
    char buf[STATEMENT_MAX];
    size_t n = (size_t)(p - name);
    memcpy(buf, name, n);
    buf[n] = 0;
    if (to->kernel)
        to->kernel(to->arg, buf);
    return 1;
}

/* One declarator, "name[4][2] = 5" or "name": reports it with elem bytes per element. */
static size_t declarator(const char *d, size_t len, size_t elem, const sim_image_symbols *to)
{
    const char *p = d, *end = d + len;
    while (p < end && is_space(*p))
        p++;
    const char *name = p;
    while (p < end && is_name_char(*p))
        p++;
    size_t name_len = (size_t)(p - name);
    if (name_len == 0 || name_len >= STATEMENT_MAX)
        return 0;
    uint64_t bytes = elem;
    for (;;) {
        while (p < end && is_space(*p))
            p++;
        if (p >= end || *p != '[')
            break;
        p++;
        uint64_t dim = 0;
        bool digits = false;
        while (p < end && *p >= '0' && *p <= '9' && dim < (1ull << 40)) {
            dim = dim * 10 + (uint64_t)(*p++ - '0');
            digits = true;
        }
        while (p < end && is_space(*p))
            p++;
        if (!digits || p >= end || *p != ']' || dim == 0 || bytes > (1ull << 40) / dim)
            return 0; /* "[]" (sized by an initializer) or not understood: size unknown */
        bytes *= dim;
        p++;
    }
    char buf[STATEMENT_MAX];
    memcpy(buf, name, name_len);
    buf[name_len] = 0;
    if (to->global)
        to->global(to->arg, buf, (size_t)bytes);
    return 1;
}

/* ".global .align 8 .u64 lut_sp, other[4];" : reports each variable. The statement may start
 * with the file's .version, .target and .address_size lines, which end without a semicolon:
 * the declaration is read from its state space on (.visible and .weak before it say nothing
 * about the size). */
static size_t variable_statement(const char *s, const sim_image_symbols *to)
{
    const char *p = find_token(s, ".global");
    if (!p)
        p = find_token(s, ".const");
    if (!p || find_token(s, ".extern"))
        return 0;
    size_t elem = 0, vec = 1;
    for (;;) { /* the directives: up to the first word that does not start with a dot */
        while (is_space(*p))
            p++;
        if (*p != '.')
            break;
        const char *w = ++p;
        while (is_name_char(*p))
            p++;
        size_t n = (size_t)(p - w);
        if (n == 2 && w[0] == 'v' && (w[1] == '2' || w[1] == '4'))
            vec = (size_t)(w[1] - '0');
        else if (n == 5 && memcmp(w, "align", 5) == 0) {
            while (is_space(*p))
                p++;
            while (*p >= '0' && *p <= '9')
                p++;
        } else if (type_bytes(w, n))
            elem = type_bytes(w, n);
    }
    if (!elem)
        return 0;
    size_t found = 0;
    while (*p) { /* declarators, separated by commas; an initializer ends one */
        const char *d = p;
        while (*p && *p != ',' && *p != '=')
            p++;
        found += declarator(d, (size_t)(p - d), elem * vec, to);
        if (*p == '=')
            while (*p && *p != ',')
                p++; /* a scalar initializer; brace ones were dropped when the statement was read */
        if (*p == ',')
            p++;
    }
    return found;
}

size_t sim_ptx_symbols(const char *ptx, size_t len, const sim_image_symbols *to)
{
    char stmt[STATEMENT_MAX];
    size_t n_stmt = 0, found = 0;
    const char *p = ptx, *end = ptx + len;
    while (p < end && *p) {
        char c = *p;
        if (c == '/' && p + 1 < end && p[1] == '/') { /* a line comment */
            while (p < end && *p && *p != '\n')
                p++;
            continue;
        }
        if (c == '/' && p + 1 < end && p[1] == '*') { /* a block comment */
            p += 2;
            while (p + 1 < end && *p && !(p[0] == '*' && p[1] == '/'))
                p++;
            p = p + 2 < end ? p + 2 : end;
            continue;
        }
        if (c == '"') { /* a string (.file's): may hold anything */
            p++;
            while (p < end && *p && *p != '"')
                p++;
            p = p < end ? p + 1 : end;
            continue;
        }
        if (c == '{') { /* an initializer, or a function's body: skipped to its closing brace */
            stmt[n_stmt] = 0;
            bool initializer = memchr(stmt, '=', n_stmt) != NULL;
            if (!initializer) {
                found += entry_statement(stmt, to);
                n_stmt = 0;
            }
            int depth = 0;
            for (; p < end && *p; p++) {
                if (*p == '{')
                    depth++;
                else if (*p == '}' && --depth == 0)
                    break;
            }
            p = p < end ? p + 1 : end;
            continue;
        }
        if (c == ';') {
            stmt[n_stmt] = 0;
            found += variable_statement(stmt, to);
            n_stmt = 0;
            p++;
            continue;
        }
        if (n_stmt + 1 < sizeof stmt)
            stmt[n_stmt++] = is_space(c) ? ' ' : c;
        p++;
    }
    return found;
}
