/* The small XML reader (see xml_min.h). A hand-written scanner rather than libxml2: the documents
 * are a few dozen KiB of simple elements, and a scanner this size can be read, fuzzed and bounded
 * in full. */
#include "xml_min.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct xr {
    const char *p, *end;
    unsigned line;
    const struct xml_handler *h;
    void *ctx;
    char *err;
    size_t errlen;
    int depth;
    size_t path_len[XML_MAX_DEPTH + 1]; /* path length before each level's name was added */
    char path[XML_MAX_PATH];
    bool has_child[XML_MAX_DEPTH + 1];
    char text[XML_MAX_TEXT];
    size_t text_len;
    bool text_overflow;
};

static int fail(struct xr *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct xr *x, const char *fmt, ...)
{
    if (x->err && x->errlen) {
        int n = snprintf(x->err, x->errlen, "line %u: ", x->line);
        if (n >= 0 && (size_t)n < x->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static bool at(const struct xr *x, const char *s)
{
    size_t n = strlen(s);
    return (size_t)(x->end - x->p) >= n && memcmp(x->p, s, n) == 0;
}

static void advance(struct xr *x, size_t n)
{
    for (size_t i = 0; i < n && x->p < x->end; i++, x->p++)
        if (*x->p == '\n')
            x->line++;
}

/* Skips to just past `close`; -1 when the input ends first. */
static int skip_past(struct xr *x, const char *close, const char *what)
{
    while (x->p < x->end) {
        if (at(x, close)) {
            advance(x, strlen(close));
            return 0;
        }
        advance(x, 1);
    }
    return fail(x, "the document ends inside %s (cut off?)", what);
}

static bool name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
static bool name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void skip_blanks(struct xr *x)
{
    while (x->p < x->end && blank(*x->p))
        advance(x, 1);
}

static int read_name(struct xr *x, char *buf)
{
    size_t n = 0;
    if (x->p >= x->end)
        return fail(x, "the document ends inside a tag (cut off?)");
    if (!name_start(*x->p))
        return fail(x, "'%c' cannot start a name", *x->p);
    while (x->p < x->end && name_char(*x->p)) {
        if (n + 1 >= XML_MAX_NAME)
            return fail(x, "a name longer than %d characters", XML_MAX_NAME - 1);
        buf[n++] = *x->p;
        advance(x, 1);
    }
    buf[n] = '\0';
    return 0;
}

/* Appends the decoded character data of [s, e) to out (of size cap, at *o). */
static int decode(struct xr *x, const char *s, const char *e, char *out, size_t cap, size_t *o, bool *overflow)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"lt;", '<'}, {"gt;", '>'}, {"amp;", '&'}, {"quot;", '"'}, {"apos;", '\''}};
    while (s < e) {
        char c = *s++;
        if (c == '&') {
            bool found = false;
            for (size_t i = 0; i < sizeof ents / sizeof ents[0] && !found; i++) {
                size_t n = strlen(ents[i].name);
                if ((size_t)(e - s) >= n && memcmp(s, ents[i].name, n) == 0) {
                    c = ents[i].c;
                    s += n;
                    found = true;
                }
            }
            if (!found && s < e && *s == '#') {
                unsigned long v = 0;
                bool hex = s + 1 < e && s[1] == 'x';
                const char *q = s + (hex ? 2 : 1);
                int digits = 0;
                for (; q < e && *q != ';' && digits < 8; q++, digits++) {
                    char d = *q;
                    int dv = d >= '0' && d <= '9' ? d - '0'
                             : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                             : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10 : -1;
                    if (dv < 0)
                        break;
                    v = v * (hex ? 16 : 10) + (unsigned long)dv;
                }
                if (q < e && *q == ';' && digits > 0 && v > 0 && v < 0x80) {
                    c = (char)v;
                    s = q + 1;
                    found = true;
                } else if (q < e && *q == ';' && digits > 0 && v >= 0x80 && v <= 0x10ffff) {
                    c = '?'; /* beyond ASCII: nothing grey reads needs it */
                    s = q + 1;
                    found = true;
                }
            }
            if (!found)
                return fail(x, "unknown entity or stray '&'");
        }
        if (*o + 1 >= cap) {
            *overflow = true;
            continue;
        }
        out[(*o)++] = c;
    }
    out[*o] = '\0';
    return 0;
}

static int read_attrs(struct xr *x, struct xml_attr *attrs, int *nattrs, bool *self_close)
{
    *nattrs = 0;
    *self_close = false;
    for (;;) {
        skip_blanks(x);
        if (x->p >= x->end)
            return fail(x, "the document ends inside a tag (cut off?)");
        if (at(x, "/>")) {
            advance(x, 2);
            *self_close = true;
            return 0;
        }
        if (*x->p == '>') {
            advance(x, 1);
            return 0;
        }
        struct xml_attr scratch, *a = *nattrs < XML_MAX_ATTRS ? &attrs[*nattrs] : &scratch;
        if (read_name(x, a->name) != 0)
            return -1;
        skip_blanks(x);
        if (x->p >= x->end || *x->p != '=')
            return fail(x, "attribute '%s' has no '='", a->name);
        advance(x, 1);
        skip_blanks(x);
        if (x->p >= x->end || (*x->p != '"' && *x->p != '\''))
            return fail(x, "attribute '%s' has no quoted value", a->name);
        char q = *x->p;
        advance(x, 1);
        const char *s = x->p;
        while (x->p < x->end && *x->p != q) {
            if (*x->p == '<')
                return fail(x, "'<' in the value of attribute '%s'", a->name);
            advance(x, 1);
        }
        if (x->p >= x->end)
            return fail(x, "the document ends inside a tag (cut off?)");
        size_t o = 0;
        bool overflow = false;
        if (decode(x, s, x->p, a->value, sizeof a->value, &o, &overflow) != 0)
            return -1;
        if (overflow)
            return fail(x, "attribute '%s' is longer than %d characters", a->name, XML_MAX_TEXT - 1);
        advance(x, 1);
        if (*nattrs < XML_MAX_ATTRS)
            (*nattrs)++;
    }
}

static int open_element(struct xr *x, const char *name, const struct xml_attr *attrs, int nattrs, bool self_close)
{
    if (x->depth >= XML_MAX_DEPTH)
        return fail(x, "elements nested deeper than %d", XML_MAX_DEPTH);
    if (x->depth > 0)
        x->has_child[x->depth] = true;
    size_t base = strlen(x->path);
    int n = snprintf(x->path + base, sizeof x->path - base, "%s%s", base ? "/" : "", name);
    if (n < 0 || base + (size_t)n >= sizeof x->path)
        return fail(x, "element path longer than %d characters", XML_MAX_PATH - 1);
    x->depth++;
    x->path_len[x->depth] = base;
    x->has_child[x->depth] = false;
    x->text_len = 0;
    x->text[0] = '\0';
    x->text_overflow = false;
    if (x->h->start)
        x->h->start(x->ctx, x->path, attrs, nattrs);
    if (self_close) {
        if (x->h->end)
            x->h->end(x->ctx, x->path);
        x->path[x->path_len[x->depth]] = '\0';
        x->depth--;
    }
    return 0;
}

static int close_element(struct xr *x, const char *name)
{
    if (x->depth == 0)
        return fail(x, "</%s> closes nothing", name);
    const char *own = x->path + x->path_len[x->depth] + (x->path_len[x->depth] ? 1 : 0);
    if (strcmp(own, name) != 0)
        return fail(x, "</%s> closes <%s>", name, own);
    if (!x->has_child[x->depth] && x->h->text) {
        if (x->text_overflow)
            return fail(x, "the text of <%s> is longer than %d characters", name, XML_MAX_TEXT - 1);
        /* Drop surrounding blanks: nvidia-smi indents, and "None" sits on its own line. */
        char *t = x->text, *e = t + strlen(t);
        while (blank(*t))
            t++;
        while (e > t && blank(e[-1]))
            *--e = '\0';
        x->h->text(x->ctx, x->path, t);
    }
    if (x->h->end)
        x->h->end(x->ctx, x->path);
    x->path[x->path_len[x->depth]] = '\0';
    x->depth--;
    x->text_len = 0;
    x->text[0] = '\0';
    return 0;
}

int xml_parse(const char *text, size_t len, const struct xml_handler *h, void *ctx, char *err, size_t errlen)
{
    static const struct xml_handler none = {NULL, NULL, NULL};
    struct xr x;
    memset(&x, 0, sizeof x);
    x.p = text;
    x.end = text + len;
    x.line = 1;
    x.h = h ? h : &none;
    x.ctx = ctx;
    x.err = err;
    x.errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
    bool seen_root = false;
    while (x.p < x.end) {
        if (*x.p != '<') {
            const char *s = x.p;
            while (x.p < x.end && *x.p != '<')
                advance(&x, 1);
            if (x.depth == 0) {
                for (const char *c = s; c < x.p; c++)
                    if (!blank(*c))
                        return fail(&x, "text outside the document element");
                continue;
            }
            if (memchr(s, '\0', (size_t)(x.p - s)))
                return fail(&x, "NUL byte in the text");
            if (decode(&x, s, x.p, x.text, sizeof x.text, &x.text_len, &x.text_overflow) != 0)
                return -1;
            continue;
        }
        if (at(&x, "<?")) {
            if (skip_past(&x, "?>", "a processing instruction") != 0)
                return -1;
        } else if (at(&x, "<!--")) {
            if (skip_past(&x, "-->", "a comment") != 0)
                return -1;
        } else if (at(&x, "<![CDATA[")) {
            if (x.depth == 0)
                return fail(&x, "CDATA outside the document element");
            advance(&x, 9);
            const char *s = x.p;
            if (skip_past(&x, "]]>", "a CDATA section") != 0)
                return -1;
            for (const char *c = s; c < x.p - 3; c++) {
                if (x.text_len + 1 >= sizeof x.text) {
                    x.text_overflow = true;
                    break;
                }
                x.text[x.text_len++] = *c;
            }
            x.text[x.text_len] = '\0';
        } else if (at(&x, "<!")) {
            if (seen_root)
                return fail(&x, "a declaration inside the document");
            /* <!DOCTYPE ...>, with an internal subset in [...] */
            int brackets = 0;
            for (;;) {
                if (x.p >= x.end)
                    return fail(&x, "the document ends inside a declaration (cut off?)");
                char c = *x.p;
                advance(&x, 1);
                if (c == '[')
                    brackets++;
                else if (c == ']')
                    brackets--;
                else if (c == '>' && brackets <= 0)
                    break;
            }
        } else if (at(&x, "</")) {
            advance(&x, 2);
            char name[XML_MAX_NAME];
            if (read_name(&x, name) != 0)
                return -1;
            skip_blanks(&x);
            if (x.p >= x.end)
                return fail(&x, "the document ends inside a tag (cut off?)");
            if (*x.p != '>')
                return fail(&x, "unexpected '%c' in </%s>", *x.p, name);
            advance(&x, 1);
            if (close_element(&x, name) != 0)
                return -1;
        } else {
            advance(&x, 1);
            char name[XML_MAX_NAME];
            struct xml_attr attrs[XML_MAX_ATTRS];
            int nattrs;
            bool self_close;
            if (read_name(&x, name) != 0 || read_attrs(&x, attrs, &nattrs, &self_close) != 0)
                return -1;
            if (x.depth == 0 && seen_root)
                return fail(&x, "a second document element <%s>", name);
            seen_root = true;
            if (open_element(&x, name, attrs, nattrs, self_close) != 0)
                return -1;
        }
    }
    if (x.depth > 0) {
        const char *own = x.path + x.path_len[x.depth] + (x.path_len[x.depth] ? 1 : 0);
        return fail(&x, "the document ends inside <%s> (cut off?)", own);
    }
    if (!seen_root)
        return fail(&x, "no document element (not XML?)");
    return 0;
}
