/* A small, strict XML reader for the well-formed documents tools print (nvidia-smi -q -x): no
 * DTD processing, no namespaces, no external anything. It walks the text once and reports, through
 * callbacks, each element's start (with its attributes) and each leaf element's text (entities
 * decoded, surrounding blanks dropped), with the element's path from the root
 * ("nvidia_smi_log/gpu/fb_memory_usage/total"). Everything read from the input is bounded: names,
 * attribute values and texts longer than the limits below make the document malformed. */
#ifndef GREY_XML_MIN_H
#define GREY_XML_MIN_H

#include <stddef.h>

#define XML_MAX_DEPTH 32
#define XML_MAX_NAME 64
#define XML_MAX_TEXT 512
#define XML_MAX_ATTRS 8
#define XML_MAX_PATH 1024

struct xml_attr {
    char name[XML_MAX_NAME];
    char value[XML_MAX_TEXT];
};

struct xml_handler {
    void (*start)(void *ctx, const char *path, const struct xml_attr *attrs, int nattrs); /* may be NULL */
    void (*text)(void *ctx, const char *path, const char *text);                           /* may be NULL */
    void (*end)(void *ctx, const char *path);                                              /* may be NULL */
};

/* Parses text[0..len). Returns 0 for a complete, well-formed document; -1 with "line N: reason"
 * in err otherwise ("line 40: the document ends inside <gpu> (cut off?)"). Callbacks made before
 * the error stand: the caller decides what a half-read document is worth. */
int xml_parse(const char *text, size_t len, const struct xml_handler *h, void *ctx, char *err, size_t errlen);

#endif
