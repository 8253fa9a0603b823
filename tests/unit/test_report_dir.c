/* The per-user report directory (policy/report_dir.h): private, or refused. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/report_dir.h"
#include "policy/settings.h"

/* The grey directory the settings name now (policy/settings.h). */
static const char *base_now(void)
{
    static struct grey_settings s;
    grey_settings_read(&s, grey_env_process, (unsigned)geteuid());
    return s.report_base;
}

static char root[64];

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/grey-dir-test.XXXXXX");
    cr_assert_not_null(mkdtemp(root));
}

Test(report_dir, grey_dir_is_created_private)
{
    make_root();
    char dir[128], out[256], err[256];
    snprintf(dir, sizeof dir, "%s/reports", root);
    setenv("GREY_DIR", dir, 1);
    cr_assert_eq(grey_report_base(base_now(), out, sizeof out, true, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(out, dir);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0700);
    cr_assert_eq(grey_report_base(base_now(), out, sizeof out, true, err, sizeof err), 0, "an existing private directory is fine");
    char sock[300];
    cr_assert_eq(grey_report_live_socket(out, 42, sock, sizeof sock), 0);
    cr_assert(strstr(sock, "/live/42.sock"));
    rmdir(dir);
    rmdir(root);
}

Test(report_dir, a_directory_others_can_enter_is_refused)
{
    make_root();
    char dir[128], out[256], err[256];
    snprintf(dir, sizeof dir, "%s/open", root);
    mkdir(dir, 0755);
    chmod(dir, 0755);
    setenv("GREY_DIR", dir, 1);
    cr_assert_eq(grey_report_base(base_now(), out, sizeof out, true, err, sizeof err), -1);
    cr_assert(strstr(err, "0700"), "%s", err);
    rmdir(dir);
    rmdir(root);
}

Test(report_dir, a_file_in_the_way_is_refused)
{
    make_root();
    char file[128], out[256], err[256];
    snprintf(file, sizeof file, "%s/file", root);
    fclose(fopen(file, "w"));
    setenv("GREY_DIR", file, 1);
    cr_assert_eq(grey_report_base(base_now(), out, sizeof out, true, err, sizeof err), -1);
    cr_assert(strstr(err, "not a directory"), "%s", err);
    unlink(file);
    rmdir(root);
}

Test(report_dir, the_default_is_per_user)
{
    unsetenv("GREY_DIR");
    unsetenv("XDG_RUNTIME_DIR");
    char out[256], err[256], want[64];
    grey_report_base(base_now(), out, sizeof out, false, err, sizeof err);
    snprintf(want, sizeof want, "/tmp/grey-%u", (unsigned)geteuid());
    cr_assert_str_eq(out, want);
    setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
    grey_report_base(base_now(), out, sizeof out, false, err, sizeof err);
    cr_assert_str_eq(out, "/run/user/1234/grey");
}
