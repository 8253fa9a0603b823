/* Fingerprints of contents (policy/fingerprint.h). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "policy/fingerprint.h"

Test(fingerprint, chunked_reading_gives_the_one_shot_fingerprint)
{
    size_t n = (5 << 20) + 123;
    unsigned char *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 31 + (i >> 9));
    struct grey_fp whole = grey_fp_bytes(buf, n);
    struct grey_fp_stream s;
    grey_fp_begin(&s);
    for (size_t off = 0; off < n; off += 4 << 20)
        grey_fp_update(&s, buf + off, n - off < (4u << 20) ? n - off : 4u << 20);
    cr_assert(grey_fp_equal(grey_fp_end(&s), whole));
    buf[n / 2] ^= 1;
    cr_assert_not(grey_fp_equal(grey_fp_bytes(buf, n), whole), "one flipped bit changes the fingerprint");
    free(buf);
}

Test(fingerprint, zeros_of_different_lengths_differ)
{
    static unsigned char zeros[8192];
    cr_assert_not(grey_fp_equal(grey_fp_bytes(zeros, 4096), grey_fp_bytes(zeros, 8192)));
}

Test(fingerprint, text_round_trip_and_refusals)
{
    struct grey_fp fp = {0x0123456789abcdefull, 0xfedcba9876543210ull}, back;
    char text[GREY_FP_TEXT];
    grey_fp_format(fp, text);
    cr_assert_str_eq(text, "0123456789abcdeffedcba9876543210");
    cr_assert(grey_fp_parse(text, &back));
    cr_assert(grey_fp_equal(fp, back));
    cr_assert_not(grey_fp_parse("0123", &back), "too short");
    cr_assert_not(grey_fp_parse("0123456789abcdeffedcba987654321g", &back), "not hex");
    cr_assert_not(grey_fp_parse("0123456789abcdeffedcba98765432100", &back), "too long");
    cr_assert_not(grey_fp_parse(NULL, &back));
}
