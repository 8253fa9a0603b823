/* The raw record: what the hook writes is what the tools read; malformed records are refused
 * with their file and line (policy/rawlog.h). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/rawlog.h"
#include "policy/tracker.h"

static char path[64];

static void tmpfile_path(void)
{
    snprintf(path, sizeof path, "/tmp/grey-rawlog-test.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
}

static void write_text(const char *text)
{
    tmpfile_path();
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static struct grey_raw_buffer sample_buffer(bool live)
{
    struct grey_raw_buffer b = {.live = live, .kind = GREY_RAW_PTR, .addr = 0x7f0012340000, .bytes = 8 << 20,
                                .device = 1, .site = 7, .touched = GREY_TOUCH_UPLOAD | GREY_TOUCH_KERNEL,
                                .alloc_ns = 1000, .free_ns = live ? 0 : 5000, .last_use_ns = 2000,
                                .has_fp = true, .fp = {0x1111, 0x2222}, .fp_source = GREY_FP_UPLOAD, .fp_ns = 1500};
    strcpy(b.api, "cuMemAlloc");
    return b;
}

Test(rawlog, what_is_written_reads_back)
{
    tmpfile_path();
    int fd = open(path, O_WRONLY | O_TRUNC);
    static struct grey_raw_writer w;
    grey_raw_writer_init(&w, fd);
    struct grey_raw_header h = {.pid = 4242, .run_id = 0xabc, .start_ns = 100, .end_ns = 9000, .dedup = true,
                                .sites = true, .depth = 6, .peak_ns = 3000, .peak_bytes = 16 << 20};
    strcpy(h.exe, "/opt/my program/bin/train");
    strcpy(h.reason, "exit");
    grey_raw_write_header(&w, &h);
    struct grey_raw_snapshot snap = {.source = GREY_FP_EXIT, .ns = 8000, .buffers = 2, .bytes = 16 << 20, .failed = 1};
    grey_raw_write_snapshot(&w, &snap);
    grey_raw_write_module(&w, 0, "/opt/my program/bin/train");
    grey_raw_write_module(&w, 1, "/lib/libc.so.6");
    struct grey_raw_site s = {.id = 7, .depth = 3, .live_bytes = 8 << 20, .live_count = 1, .peak_bytes = 16 << 20,
                              .peak_count = 2, .allocs = 2, .alloc_bytes = 16 << 20};
    s.frames[0] = (struct grey_raw_frame){0, 0x1234};
    s.frames[1] = (struct grey_raw_frame){1, 0x27305};
    s.frames[2] = (struct grey_raw_frame){-1, 0x7fffdeadbeef};
    grey_raw_write_site(&w, &s);
    struct grey_raw_buffer live = sample_buffer(true), freed = sample_buffer(false);
    freed.fp_stale = true;
    grey_raw_write_buffer(&w, &live);
    grey_raw_write_buffer(&w, &freed);
    struct grey_raw_counts c = {.freed_dropped = 3, .sites_dropped = 4, .kernel_args_unknown = 5};
    cr_assert_eq(grey_raw_write_end(&w, &c), 0);
    close(fd);

    struct grey_raw_process p;
    char err[256];
    cr_assert(grey_raw_sniff(path));
    cr_assert_eq(grey_raw_read(path, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(p.hdr.pid, 4242);
    cr_assert_eq(p.hdr.run_id, 0xabc);
    cr_assert_str_eq(p.hdr.exe, "/opt/my program/bin/train", "paths keep their spaces");
    cr_assert(p.hdr.dedup);
    cr_assert_eq(p.hdr.depth, 6);
    cr_assert_eq(p.hdr.peak_bytes, 16 << 20);
    cr_assert_eq(p.nsnapshots, 1);
    cr_assert_eq(p.snapshots[0].source, GREY_FP_EXIT);
    cr_assert_eq(p.snapshots[0].failed, 1);
    cr_assert_eq(p.nmodules, 2);
    cr_assert_str_eq(p.modules[1], "/lib/libc.so.6");
    const struct grey_raw_site *rs = grey_raw_site(&p, 7);
    cr_assert_not_null(rs);
    cr_assert_eq(rs->depth, 3);
    cr_assert_eq(rs->frames[1].offset, 0x27305);
    cr_assert_eq(rs->frames[2].module, -1);
    cr_assert_eq(rs->peak_count, 2);
    cr_assert_null(grey_raw_site(&p, 8));
    cr_assert_eq(p.nbuffers, 2);
    cr_assert(p.buffers[0].live);
    cr_assert_eq(p.buffers[0].addr, 0x7f0012340000);
    cr_assert_str_eq(p.buffers[0].api, "cuMemAlloc");
    cr_assert_eq(p.buffers[0].touched, GREY_TOUCH_UPLOAD | GREY_TOUCH_KERNEL);
    cr_assert(p.buffers[0].has_fp);
    cr_assert(grey_fp_equal(p.buffers[0].fp, (struct grey_fp){0x1111, 0x2222}));
    cr_assert_eq(p.buffers[0].fp_source, GREY_FP_UPLOAD);
    cr_assert_not(p.buffers[1].live);
    cr_assert_eq(p.buffers[1].free_ns, 5000);
    cr_assert(p.buffers[1].fp_stale);
    cr_assert_eq(p.counts.kernel_args_unknown, 5);
    grey_raw_free(&p);
    unlink(path);
}

/* Each malformed record, and the words its error must contain. */
static const struct {
    const char *text, *why;
} bad[] = {
    {"", "empty file"},
    {"hello\n", "not a grey raw record"},
    {"grey-raw 2\nend\n", "version 2"},
    {"grey-raw 1\npid 1\ntimes 1 2\n", "truncated"},
    {"grey-raw 1\npid 1\ntimes 1 2\nfrobnicate 3\nend\n", "unknown record 'frobnicate'"},
    {"grey-raw 1\npid x\ntimes 1 2\nend\n", "malformed pid"},
    {"grey-raw 1\npid 1\ntimes 1 2\nsite 1 0 0 0 0 0 0 1 0:10\nend\n", "before it is declared"},
    {"grey-raw 1\npid 1\ntimes 1 2\nsite 1 0 0 0 0 0 0 2 -1:10\nend\n", "2 frames announced, 1 given"},
    {"grey-raw 1\npid 1\ntimes 1 2\nmodule 1 /x\nend\n", "count up from 0"},
    {"grey-raw 1\npid 1\ntimes 1 2\nbuf live ptr cuMemAlloc 10 20 0 0 1 0 0 0 - none 0\nend\n", "fields"},
    {"grey-raw 1\npid 1\ntimes 1 2\nbuf live ptr cuMemAlloc 10 20 0 0 1 0 0 0 zz upload 0 0\nend\n", "32 hex"},
    {"grey-raw 1\npid 1\ntimes 1 2\nbuf live ptr cuMemAlloc 10 20 0 0 1 0 0 0 - upload 0 0\nend\n", "disagree"},
    {"grey-raw 1\npid 1\ntimes 1 2\nbuf freed ptr cuMemAlloc 10 20 0 0 1 0 0 0 - none 0 0\nend\n", "without a free time"},
    {"grey-raw 1\npid 1\ntimes 1 2\nbuf live blob cuMemAlloc 10 20 0 0 1 0 0 0 - none 0 0\nend\n", "unknown buffer kind"},
    {"grey-raw 1\npid 1\ntimes 1 2\nend\nmore\n", "after the end line"},
    {"grey-raw 1\ntimes 1 2\nend\n", "pid or times line is missing"},
};

Test(rawlog, malformed_records_are_refused_with_file_and_line)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_text(bad[i].text);
        struct grey_raw_process p;
        char err[512];
        cr_assert_eq(grey_raw_read(path, &p, err, sizeof err), -1, "case %zu was accepted", i);
        cr_assert(strstr(err, bad[i].why), "case %zu: '%s' does not say '%s'", i, err, bad[i].why);
        cr_assert(strncmp(err, path, strlen(path)) == 0, "case %zu: '%s' does not name the file", i, err);
        unlink(path);
    }
}

Test(rawlog, a_missing_file_is_an_error_not_a_crash)
{
    struct grey_raw_process p;
    char err[256];
    cr_assert_eq(grey_raw_read("/nonexistent/grey.raw", &p, err, sizeof err), -1);
    cr_assert(strstr(err, "cannot read"));
    cr_assert_not(grey_raw_sniff("/nonexistent/grey.raw"));
}
