/* The buffer report as the tools build and render it (tools/report_build.h, report_text.h,
 * report_html.h, symbolize.h). */
#include <criterion/criterion.h>
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy/tracker.h"
#include "tools/report_build.h"
#include "tools/report_html.h"
#include "tools/report_text.h"
#include "tools/symbolize.h"

#define MiB (1ull << 20)

static char *modules[] = {"/nonexistent/train"};

static struct grey_raw_buffer b(uint64_t addr, uint64_t fp, uint32_t site)
{
    struct grey_raw_buffer x = {.live = true, .kind = GREY_RAW_PTR, .addr = addr, .bytes = 8 * MiB, .site = site,
                                .alloc_ns = 1000 + (addr >> 20), .touched = GREY_TOUCH_UPLOAD, .last_use_ns = 2000,
                                .has_fp = true, .fp = {fp, fp}, .fp_source = GREY_FP_EXIT, .fp_ns = 3000};
    strcpy(x.api, "cuMemAlloc");
    return x;
}

static struct grey_raw_buffer buffers[4];
static struct grey_raw_site sites[2];

static struct grey_raw_process sample(void)
{
    buffers[0] = b(0x7000000, 5, 1);
    buffers[1] = b(0x7800000, 5, 1);
    buffers[2] = b(0x8000000, 5, 2);
    buffers[3] = b(0x8800000, 6, 2);
    sites[0] = (struct grey_raw_site){.id = 1, .depth = 1, .peak_bytes = 16 * MiB, .peak_count = 2};
    sites[0].frames[0] = (struct grey_raw_frame){0, 0x1234};
    sites[1] = (struct grey_raw_site){.id = 2, .depth = 1, .peak_bytes = 16 * MiB, .peak_count = 2};
    sites[1].frames[0] = (struct grey_raw_frame){0, 0x1234}; /* another stack, same frame: one row */
    struct grey_raw_process p = {.modules = modules, .nmodules = 1, .sites = sites, .nsites = 2,
                                 .buffers = buffers, .nbuffers = 4};
    p.hdr.pid = 77;
    strcpy(p.hdr.exe, "/nonexistent/train");
    p.hdr.dedup = true;
    p.hdr.start_ns = 500;
    p.hdr.end_ns = 9000;
    p.hdr.peak_bytes = 32 * MiB;
    p.hdr.peak_ns = 2500;
    return p;
}

static cJSON *build(void)
{
    struct grey_raw_process p = sample();
    struct grey_dedup_options opt;
    grey_dedup_default_options(&opt);
    cJSON *r = grey_report_build(&p, 1, &opt);
    cr_assert_not_null(r);
    return r;
}

Test(report_build, the_report_has_the_group_the_peak_and_the_totals)
{
    cJSON *r = build();
    cr_assert_eq(cJSON_GetObjectItem(r, "grey_report")->valueint, GREY_REPORT_VERSION);
    cr_assert_eq(cJSON_GetObjectItem(r, "reclaimable_bytes")->valuedouble, 16.0 * MiB);
    const cJSON *groups = cJSON_GetObjectItem(r, "groups");
    cr_assert_eq(cJSON_GetArraySize(groups), 1);
    const cJSON *g = cJSON_GetArrayItem(groups, 0);
    cr_assert_eq(cJSON_GetObjectItem(g, "count")->valueint, 3);
    cr_assert_eq(cJSON_GetObjectItem(g, "bytes_each")->valuedouble, 8.0 * MiB);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(g, "alive_together")));
    cr_assert_str_eq(cJSON_GetObjectItem(g, "fingerprint")->valuestring, "00000000000000050000000000000005");
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(g, "buffers"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(first, "address")->valuestring, "0x7000000");
    cr_assert_str_eq(cJSON_GetObjectItem(first, "api")->valuestring, "cuMemAlloc");
    const cJSON *frame = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(first, "site"), "frames"), 0);
    cr_assert_str_eq(cJSON_GetObjectItem(frame, "offset")->valuestring, "0x1234");
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(frame, "function")), "a module that is gone names nothing");
    char label[128];
    cr_assert_str_eq(grey_report_frame_label(frame, label, sizeof label), "train+0x1234");
    const cJSON *peak = cJSON_GetObjectItem(r, "peak");
    cr_assert_eq(cJSON_GetObjectItem(peak, "bytes")->valuedouble, 32.0 * MiB);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "top_sites")), 2);
    struct grey_site_row rows[4];
    cr_assert_eq(grey_report_peak_rows(r, "sites", rows, 4), 1, "two stacks naming one frame are one row");
    cr_assert_eq(rows[0].bytes, 32.0 * MiB);
    cr_assert_eq(rows[0].buffers, 4);
    cr_assert(rows[0].dup);
    cJSON_Delete(r);
}

static char *render(void (*fn)(const cJSON *, FILE *), const cJSON *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fn(r, f);
    fclose(f);
    return text;
}

static void summary(const cJSON *r, FILE *f) { grey_report_summary(r, "/tmp/r.json", f); }

Test(report_build, text_html_and_summary_show_the_group)
{
    cJSON *r = build();
    char *text = render(grey_report_text, r);
    cr_assert(strstr(text, "reclaimable by deduplication: 16.0 MiB in 1 group"), "%s", text);
    cr_assert(strstr(text, "3 identical buffers of 8.0 MiB"), "%s", text);
    cr_assert(strstr(text, "train+0x1234"), "%s", text);
    free(text);
    char *html = render(grey_report_html, r);
    cr_assert(strstr(html, "<svg"), "the page has its picture");
    cr_assert(strstr(html, "site dup"), "the duplicate site is highlighted");
    cr_assert(strstr(html, "00000000000000050000000000000005"), "the group is on the page");
    cr_assert_null(strstr(html, "<script"), "self-contained, no script");
    free(html);
    char *sum = render(summary, r);
    int lines = 0;
    for (char *c = sum; *c; c++)
        lines += *c == '\n';
    cr_assert_eq(lines, 3, "%s", sum);
    cr_assert(strstr(sum, "16.0 MiB reclaimable"), "%s", sum);
    cr_assert(strstr(sum, "/tmp/r.json"), "%s", sum);
    free(sum);
    cJSON_Delete(r);
}

Test(report_build, html_escapes_what_the_program_named)
{
    cJSON *r = build();
    cJSON *procs = cJSON_GetObjectItem(r, "processes");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(procs, 0), "exe", cJSON_CreateString("/x/<script>alert(1)</script>"));
    char *html = render(grey_report_html, r);
    cr_assert_null(strstr(html, "<script>"));
    cr_assert(strstr(html, "&lt;script&gt;"));
    free(html);
    cJSON_Delete(r);
}

static char path[64];

static void write_file(const char *text)
{
    snprintf(path, sizeof path, "/tmp/grey-report-test.XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

Test(report_build, a_written_report_loads_back_and_bad_input_is_refused)
{
    cJSON *r = build();
    char err[512], *text;
    snprintf(path, sizeof path, "/tmp/grey-report-test.%d.json", (int)getpid());
    cr_assert_eq(grey_report_write(r, path, err, sizeof err), 0, "%s", err);
    struct grey_dedup_options opt;
    grey_dedup_default_options(&opt);
    cJSON *back = grey_report_load(path, &opt, &text, err, sizeof err);
    cr_assert_not_null(back, "%s", err);
    cr_assert_not_null(text, "a JSON report keeps its text for --json");
    cr_assert_eq(cJSON_GetObjectItem(back, "reclaimable_bytes")->valuedouble, 16.0 * MiB);
    cJSON_Delete(back);
    free(text);
    unlink(path);
    cJSON_Delete(r);

    cr_assert_null(grey_report_load("/nonexistent/r.json", &opt, &text, err, sizeof err));
    cr_assert(strstr(err, "cannot read /nonexistent/r.json"), "%s", err);
    write_file("{\"groups\": [1, 2");
    cr_assert_null(grey_report_load(path, &opt, &text, err, sizeof err));
    cr_assert(strstr(err, "not valid JSON"), "%s", err);
    unlink(path);
    write_file("{\"hello\": 1}");
    cr_assert_null(grey_report_load(path, &opt, &text, err, sizeof err));
    cr_assert(strstr(err, "not a grey buffer report"), "%s", err);
    unlink(path);
    write_file("{\"grey_report\": 99, \"groups\": [], \"processes\": [], \"reclaimable_bytes\": 0}");
    cr_assert_null(grey_report_load(path, &opt, &text, err, sizeof err));
    cr_assert(strstr(err, "version 99"), "%s", err);
    unlink(path);
}

__attribute__((noinline, noipa)) static uintptr_t where_am_i(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

Test(symbolize, a_frame_of_this_program_gets_its_function_name)
{
    uintptr_t ret = where_am_i(); /* a return address inside this test function */
    Dl_info info;
    struct link_map *lm;
    cr_assert(dladdr1((void *)ret, &info, (void **)&lm, RTLD_DL_LINKMAP));
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    struct grey_symbolizer *s = grey_symbolizer_new();
    grey_symbolizer_add(s, exe, ret - lm->l_addr);
    grey_symbolizer_add(s, "/nonexistent/lib.so", 0x10);
    grey_symbolizer_resolve(s);
    const struct grey_symbol *sym = grey_symbolizer_get(s, exe, ret - lm->l_addr);
    cr_assert_not_null(sym->function, "libdw named nothing");
    cr_assert(strstr(sym->function, "a_frame_of_this_program_gets_its_function_name"), "%s", sym->function);
    cr_assert_not_null(sym->file);
    cr_assert(strstr(sym->file, "test_report_build.c"), "%s", sym->file);
    cr_assert_null(grey_symbolizer_get(s, "/nonexistent/lib.so", 0x10)->function);
    grey_symbolizer_free(s);
}

/* Always inlined: the call to where_am_i below is an instruction of the test that uses it. */
static inline __attribute__((always_inline)) uintptr_t inlined_helper(void) { return where_am_i(); }

Test(symbolize, a_frame_in_inlined_code_names_the_function_it_was_inlined_into)
{
    uintptr_t ret = inlined_helper(); unsigned call_line = __LINE__; /* one line: the inlined call's */
    Dl_info info;
    struct link_map *lm;
    cr_assert(dladdr1((void *)ret, &info, (void **)&lm, RTLD_DL_LINKMAP));
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = '\0';
    struct grey_symbolizer *s = grey_symbolizer_new();
    grey_symbolizer_add(s, exe, ret - lm->l_addr);
    grey_symbolizer_resolve(s);
    const struct grey_symbol *sym = grey_symbolizer_get(s, exe, ret - lm->l_addr);
    cr_assert_not_null(sym->function);
    cr_assert_str_eq(sym->function, "inlined_helper");
    cr_assert(sym->file && strstr(sym->file, "test_report_build.c"), "%s", sym->file ? sym->file : "(none)");
    cr_assert_not_null(sym->inlined_into, "no inlined_into for an inlined frame");
    cr_assert(sym->inlined_into->function &&
                  strstr(sym->inlined_into->function, "a_frame_in_inlined_code_names_the_function_it_was_inlined_into"),
              "%s", sym->inlined_into->function ? sym->inlined_into->function : "(none)");
    cr_assert_eq(sym->inlined_into->line, call_line);
    cr_assert_null(sym->inlined_into->inlined_into);
    grey_symbolizer_free(s);
}
