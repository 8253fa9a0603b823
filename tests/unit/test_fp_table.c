/* The node's fingerprint table (policy/fp_table.h): a section published and read back, a section
 * being written or never written refused, counts cut to the section, and damaged files refused. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "policy/fp_table.h"

Test(fp_table, published_section_reads_back)
{
    static struct grey_fpt_section s, out;
    struct grey_fpt_entry e[2] = {{.fp = {1, 2}, .bytes = 8u << 20, .addr = 0x1000, .row = 3},
                                  {.fp = {4, 5}, .bytes = 2u << 20, .addr = 0x2000, .row = 0}};
    cr_assert_not(grey_fpt_read_section(&s, &out), "a section never written is not read");
    grey_fpt_publish(&s, 42, 0xabc, 7, e, 2);
    cr_assert(grey_fpt_read_section(&s, &out));
    cr_assert_eq(out.pid, 42);
    cr_assert_eq(out.run_id, 0xabc);
    cr_assert_eq(out.count, 2);
    cr_assert_eq(memcmp(out.entries, e, sizeof e), 0);
    grey_fpt_publish(&s, 42, 0xabc, 8, e, 1); /* a later snapshot replaces it */
    cr_assert(grey_fpt_read_section(&s, &out));
    cr_assert_eq(out.count, 1);
    atomic_fetch_add(&s.seq, 1); /* odd: its owner is writing */
    cr_assert_not(grey_fpt_read_section(&s, &out), "a section being written is not read");
}

Test(fp_table, counts_are_cut_to_the_section)
{
    static struct grey_fpt_section s, out;
    grey_fpt_publish(&s, 1, 0, 1, NULL, 0);
    s.count = 1000000; /* damage */
    cr_assert(grey_fpt_read_section(&s, &out));
    cr_assert_eq(out.count, GREY_FPT_ENTRIES);
}

Test(fp_table, damaged_files_are_refused)
{
    size_t len = grey_fpt_size(4);
    unsigned char *f = calloc(1, len);
    struct grey_fpt_header *h = (struct grey_fpt_header *)f;
    cr_assert_str_eq(grey_fpt_check(f, 8), "shorter than its header");
    cr_assert_str_eq(grey_fpt_check(f, len), "not a grey fingerprint table");
    *h = (struct grey_fpt_header){.magic = GREY_FPT_MAGIC, .version = 9, .sections = 4};
    cr_assert_str_eq(grey_fpt_check(f, len), "another layout version");
    h->version = GREY_FPT_VERSION;
    cr_assert_null(grey_fpt_check(f, len));
    cr_assert_str_eq(grey_fpt_check(f, len - 1), "its size does not match its sections");
    h->sections = 0;
    cr_assert_str_eq(grey_fpt_check(f, len), "its size does not match its sections");
    char path[16];
    cr_assert(grey_fpt_path("/dev/shm/l", path, sizeof path));
    cr_assert_str_eq(path, "/dev/shm/l.fp");
    cr_assert_not(grey_fpt_path("/dev/shm/a-long-name", path, sizeof path));
    /* The service's ledger has no path: its table is beside the socket. */
    cr_assert(grey_fpt_path("grey-noded:/run/g", path, sizeof path));
    cr_assert_str_eq(path, "/run/g.fp");
    free(f);
}
