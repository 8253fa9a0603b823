/* Control characters escaped for terminals (see text_escape.h). */
#include "text_escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes that must be escaped: C0 and DEL; C1 in its two-byte UTF-8 form (0xC2 0x80-0x9F), which
 * terminals also obey; and a lone byte 0x80-0x9F that follows no UTF-8 lead byte (an 8-bit
 * terminal reads 0x9B as CSI). Returns how many bytes the control at s takes (0: none); start
 * is the string's first byte. */
static size_t control_at(const unsigned char *s, const unsigned char *start)
{
    if (s[0] < 0x20 || s[0] == 0x7f)
        return 1;
    if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
        return 2;
    if (s[0] >= 0x80 && s[0] <= 0x9f && (s == start || s[-1] < 0x80))
        return 1;
    return 0;
}

static char *escaped(const char *in)
{
    /* Every byte of a control becomes \xNN (a C1 pair, two of them): 4 bytes for 1. */
    size_t need = strlen(in) * 4 + 1;
    char *out = cJSON_malloc(need), *o = out;
    if (!out)
        return NULL;
    const unsigned char *start = (const unsigned char *)in;
    for (const unsigned char *p = start; *p;) {
        size_t w = control_at(p, start);
        if (!w) {
            *o++ = (char)*p++;
            continue;
        }
        for (; w > 0; w--, p++, o += 4)
            snprintf(o, 5, "\\x%02x", *p);
    }
    *o = '\0';
    return out;
}

static bool needs_escape(const char *s)
{
    const unsigned char *start = (const unsigned char *)s;
    for (const unsigned char *p = start; *p; p++)
        if (control_at(p, start))
            return true;
    return false;
}

bool grey_escape_controls(cJSON *node)
{
    for (; node; node = node->next) {
        if (node->string && needs_escape(node->string)) {
            char *e = escaped(node->string);
            if (!e)
                return false;
            if (!(node->type & cJSON_StringIsConst))
                cJSON_free(node->string);
            node->string = e;
            node->type &= ~cJSON_StringIsConst;
        }
        if (cJSON_IsString(node) && node->valuestring && needs_escape(node->valuestring)) {
            char *e = escaped(node->valuestring);
            if (!e)
                return false;
            cJSON_free(node->valuestring);
            node->valuestring = e;
        }
        if (node->child && !grey_escape_controls(node->child))
            return false;
    }
    return true;
}

bool grey_has_raw_controls(const char *text)
{
    const unsigned char *start = (const unsigned char *)text;
    for (const unsigned char *p = start; *p; p++)
        if (control_at(p, start) && *p != '\t' && *p != '\n' && *p != '\r')
            return true;
    return false;
}
