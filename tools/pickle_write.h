/* A writer of Python pickles (protocol 2), for the PyTorch memory snapshot export
 * (export_snapshot.c): just the opcodes a snapshot needs (dicts, lists, tuples, text, integers of
 * any size, floats, booleans, None), written in order to a FILE, with no memo. grey's own so that
 * the tools stay C and need no Python; tests/integration/export_tests.sh reads the result back
 * with Python's pickle. */
#ifndef GREY_PICKLE_WRITE_H
#define GREY_PICKLE_WRITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct grey_pickle {
    FILE *out;
    bool failed;
};

/* The protocol header; grey_pickle_end writes STOP and says whether every write succeeded. */
void grey_pickle_begin(struct grey_pickle *pk, FILE *out);
bool grey_pickle_end(struct grey_pickle *pk);

/* A dict or a list is opened, filled (for a dict: key, value, key, value ...) and closed. */
void grey_pickle_dict_begin(struct grey_pickle *pk);
void grey_pickle_dict_end(struct grey_pickle *pk);
void grey_pickle_list_begin(struct grey_pickle *pk);
void grey_pickle_list_end(struct grey_pickle *pk);
/* The two items written before it become one tuple. */
void grey_pickle_tuple2(struct grey_pickle *pk);

void grey_pickle_str(struct grey_pickle *pk, const char *s);
void grey_pickle_int(struct grey_pickle *pk, int64_t v);
void grey_pickle_uint(struct grey_pickle *pk, uint64_t v);
void grey_pickle_float(struct grey_pickle *pk, double v);
void grey_pickle_bool(struct grey_pickle *pk, bool v);
void grey_pickle_none(struct grey_pickle *pk);

#endif
