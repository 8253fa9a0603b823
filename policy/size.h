/* Sizes as people write them ("512MiB", "2GiB", "1.5G", "1048576") and as grey prints them. */
#ifndef GREY_SIZE_H
#define GREY_SIZE_H

#include <stddef.h>
#include <stdint.h>

/* Parses a byte size. Accepted: a decimal number (digits, optionally one '.' and digits), optional
 * spaces, then an optional unit: B, K/KB/Ki/KiB, M/MB/Mi/MiB, G/GB/Gi/GiB, T/TB/Ti/TiB
 * (case-insensitive; "Gi" is the Kubernetes spelling). Every unit is binary (K = KB = KiB = 1024),
 * GB too, unlike numfmt's SI mode: GPU memory is sized in powers of two, nvidia-smi prints MiB,
 * and a "16GB" board has 16 GiB; a decimal GB would cap a job 7% below what its owner meant.
 * This is the one parser for sizes: the tools' options, plans and the hook's GREY_* settings. Fractions are allowed with a unit ("1.5G"); the result is rounded down to
 * whole bytes. Refused: empty text, signs, unknown units ("12XB"), overflow past UINT64_MAX,
 * trailing garbage. On error returns -1 and writes a one-line reason into err (if errlen > 0),
 * e.g. "unknown unit 'XB' in '12XB'". On success returns 0 and stores the value in *out. */
int grey_size_parse(const char *text, uint64_t *out, char *err, size_t errlen);

/* Formats bytes for people: "512.0 MiB", "20.0 GiB", "1023 B". Always one decimal for units
 * above bytes. Returns buf. buflen of 32 is always enough. */
char *grey_size_format(uint64_t bytes, char *buf, size_t buflen);

#endif
