/* Text from a report's JSON made safe for a terminal: a report (or a raw record) names programs,
 * files and functions that anyone can choose, and an ESC or a carriage return among them would
 * let its author rewrite the screen of whoever reads the report. */
#ifndef GREY_TEXT_ESCAPE_H
#define GREY_TEXT_ESCAPE_H

#include <cJSON.h>
#include <stdbool.h>

/* Rewrites every string (keys and values) in the tree so that each byte of a control character
 * (C0, DEL, and C1 written as UTF-8) appears as \xNN. Returns false when memory ran out (the tree
 * is then partly rewritten, still whole). */
bool grey_escape_controls(cJSON *node);

/* True when text (JSON) holds a raw control byte other than tab, newline and carriage return. */
bool grey_has_raw_controls(const char *text);

#endif
