/* LD_PRELOAD with the hook exactly once (tools/job_env.h): what grey-run and the Slurm plugin
 * give a job, however deeply it nests. */
#include <criterion/criterion.h>
#include <string.h>

#include "tools/job_env.h"

#define HOOK "/opt/grey/lib/libgreyhook.so"

Test(job_env, unset_or_empty_gives_the_hook_alone)
{
    char v[256];
    cr_assert_eq(job_preload_value(NULL, HOOK, v, sizeof v), 0);
    cr_assert_str_eq(v, HOOK);
    cr_assert_eq(job_preload_value("", HOOK, v, sizeof v), 0);
    cr_assert_str_eq(v, HOOK);
}

Test(job_env, the_users_libraries_are_kept_and_the_hook_appended)
{
    char v[256];
    cr_assert_eq(job_preload_value("/a/libx.so", HOOK, v, sizeof v), 0);
    cr_assert_str_eq(v, "/a/libx.so:" HOOK);
}

Test(job_env, a_nested_job_does_not_stack_the_hook)
{
    char once[256], twice[256];
    cr_assert_eq(job_preload_value("/a/libx.so", HOOK, once, sizeof once), 0);
    cr_assert_eq(job_preload_value(once, HOOK, twice, sizeof twice), 0);
    cr_assert_str_eq(twice, once);
    cr_assert(job_preload_has("/a/libx.so " HOOK " /b/liby.so", HOOK), "space-separated entries count");
}

Test(job_env, only_whole_entries_match)
{
    cr_assert(!job_preload_has(HOOK ".old", HOOK));
    cr_assert(!job_preload_has("/x" HOOK, HOOK));
    char v[256];
    cr_assert_eq(job_preload_value(HOOK ".old", HOOK, v, sizeof v), 0);
    cr_assert_str_eq(v, HOOK ".old:" HOOK);
}

Test(job_env, a_value_that_does_not_fit_is_refused)
{
    char v[16];
    cr_assert_eq(job_preload_value("/a/libx.so", HOOK, v, sizeof v), -1);
}

Test(job_env, comm_matches_the_slots_program)
{
    cr_assert(job_comm_is_command("sh", "sh -c true"));
    cr_assert(job_comm_is_command("sh", "/bin/sh -c true"), "a path's basename");
    cr_assert(job_comm_is_command("true", "/usr/bin/true"));
    cr_assert(!job_comm_is_command("true", "env -u LD_PRELOAD true"), "env exec'd another program");
    /* comm keeps 15 bytes of the name */
    cr_assert(job_comm_is_command("a_very_long_pro", "./a_very_long_program_name --x"));
    cr_assert(!job_comm_is_command("a_very_long_pr", "./a_very_long_program_name"));
    cr_assert(!job_comm_is_command("", "sh"));
    cr_assert(!job_comm_is_command("sh", ""));
    cr_assert(!job_comm_is_command(NULL, "sh"));
    cr_assert(!job_comm_is_command("sh", "/bin/"), "no name after the slash");
}
