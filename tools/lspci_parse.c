/* lspci -mm (see lspci_parse.h). */
#include "lspci_parse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 10
#define TOKEN_MAX 160

/* Splits one line into tokens: bare words, or "quoted strings" (lspci escapes nothing inside
 * them). Returns the count, or -1 for an unterminated quote. */
static int tokens(const char *line, char tok[][TOKEN_MAX], int max)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r')
            p++;
        if (!*p)
            return n;
        const char *s, *e;
        if (*p == '"') {
            s = ++p;
            e = strchr(p, '"');
            if (!e)
                return -1;
            p = e + 1;
        } else {
            s = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\r')
                p++;
            e = p;
        }
        if (n < max)
            snprintf(tok[n], TOKEN_MAX, "%.*s", (int)(e - s), s);
        n++;
    }
}

/* "NVIDIA Corporation [10de]" -> id 0x10de and the name without the id; -1 id when absent. */
static long split_id(char *text)
{
    size_t n = strlen(text);
    if (n >= 7 && text[n - 1] == ']' && text[n - 6] == '[' && text[n - 7] == ' ') {
        char *end;
        long id = strtol(text + n - 5, &end, 16);
        if (end == text + n - 1) {
            text[n - 7] = '\0';
            return id;
        }
    }
    return -1;
}

static enum gpu_vendor vendor_of(long id, const char *name)
{
    if (id == 0x10de || (id < 0 && strncasecmp(name, "NVIDIA", 6) == 0))
        return GPU_VENDOR_NVIDIA;
    if (id == 0x1002 || (id < 0 && (strstr(name, "AMD") || strstr(name, "ATI"))))
        return GPU_VENDOR_AMD;
    if (id == 0x8086 || (id < 0 && strncasecmp(name, "Intel", 5) == 0))
        return GPU_VENDOR_INTEL;
    return GPU_VENDOR_OTHER;
}

/* Display controllers: by class id when -nn gave one, else by class name. */
static bool is_display(long class_id, const char *class_name)
{
    if (class_id >= 0)
        return class_id == 0x0300 || class_id == 0x0302 || class_id == 0x0380;
    return strcasecmp(class_name, "VGA compatible controller") == 0 || strcasecmp(class_name, "3D controller") == 0 ||
           strcasecmp(class_name, "Display controller") == 0;
}

int lspci_parse(const char *text, size_t len, struct gpu_list *out)
{
    int count = 0;
    unsigned conf = gpu_source_confidence(GPU_SRC_LSPCI);
    size_t pos = 0;
    for (int lineno = 1; pos < len; lineno++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), text + pos);
        pos += n + 1;
        if (strspn(line, " \t\r") == strlen(line))
            continue;
        char tok[MAX_TOKENS][TOKEN_MAX];
        int nt = tokens(line, tok, MAX_TOKENS);
        char pci[20];
        if (nt < 4 || gpu_pci_normalize(tok[0], pci, sizeof pci) != 0) {
            gpu_note(out, "lspci: line %d is not an 'lspci -mm' device line: '%.60s'", lineno, line);
            continue;
        }
        long class_id = split_id(tok[1]);
        if (!is_display(class_id, tok[1]))
            continue;
        long vendor_id = split_id(tok[2]);
        split_id(tok[3]);
        struct gpu_facts *g = gpu_list_add(out, vendor_of(vendor_id, tok[2]));
        if (!g)
            break;
        snprintf(g->pci, sizeof g->pci, "%s", pci);
        /* The PCI address is exact; the name is lspci's database entry for the chip ("GH100 [H100
         * SXM5 80GB]"), less reliable than the driver's marketing name. */
        gpu_mark(g, GF_PCI, GPU_SRC_LSPCI, 900);
        snprintf(g->name, sizeof g->name, "%.60s %.60s", tok[2], tok[3]);
        gpu_mark(g, GF_NAME, GPU_SRC_LSPCI, conf);
        if (!nl && nt < 6)
            g->partial = true;
        count++;
    }
    if (count)
        out->sources_used |= 1u << GPU_SRC_LSPCI;
    return count;
}
