/* Which [device N] section of a plan applies to which GPU (policy/plan_gpus.h): by UUID whatever
 * the number, by physical index for plans without UUIDs or from another node (flagged), never a
 * section that names another GPU of this node, and MIG instances by their own UUID or their GPU's. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "policy/plan_gpus.h"

#define UUID_A "GPU-aaaaaaaa-0000-0000-0000-000000000000"
#define UUID_B "GPU-bbbbbbbb-0000-0000-0000-000000000000"
#define UUID_GONE "GPU-eeeeeeee-0000-0000-0000-000000000000"
#define MIG_A1 "MIG-a1a1a1a1-0000-0000-0000-000000000000"
#define MiB (1024ULL * 1024)

/* This test's node: GPU 0 is UUID_A, with MIG instance MIG_A1; GPU 1 is UUID_B. */
static bool locate(const char *uuid, void *arg, int *index, bool *mig)
{
    (void)arg;
    *mig = grey_uuid_equal(uuid, MIG_A1);
    *index = grey_uuid_equal(uuid, UUID_A) || *mig ? 0 : grey_uuid_equal(uuid, UUID_B) ? 1 : -1;
    return *index >= 0;
}

static void section(struct grey_plan *p, int d, const char *uuid, uint64_t budget)
{
    p->dev[d].present = true;
    snprintf(p->dev[d].uuid, sizeof p->dev[d].uuid, "%s", uuid);
    p->dev[d].budget = budget;
    if ((unsigned)d + 1 > p->ndevices)
        p->ndevices = (unsigned)d + 1;
}

static struct grey_gpu_id gpu(const char *uuid, int index)
{
    struct grey_gpu_id id;
    memset(&id, 0, sizeof id);
    snprintf(id.uuid, sizeof id.uuid, "%s", uuid);
    id.index = index;
    return id;
}

static int section_for(const struct grey_plan *p, const struct grey_gpu_id *id, bool *foreign)
{
    return grey_plan_section_for(p, id, locate, NULL, foreign);
}

Test(plan_gpus, a_uuid_finds_its_section_under_any_number)
{
    struct grey_plan p = {0};
    section(&p, 0, UUID_B, 100 * MiB);
    section(&p, 1, UUID_A, 200 * MiB);
    bool foreign = true;
    struct grey_gpu_id a = gpu(UUID_A, 0);
    cr_assert_eq(section_for(&p, &a, &foreign), 1, "GPU A's section is [device 1], whatever A's index");
    cr_assert_not(foreign);
    struct grey_gpu_id lower = gpu("gpu-AAAAAAAA-0000-0000-0000-000000000000", 0);
    cr_assert_eq(section_for(&p, &lower, &foreign), 1, "UUIDs compare without regard to case");
}

Test(plan_gpus, a_plan_without_uuids_applies_by_physical_index)
{
    struct grey_plan p = {0};
    section(&p, 0, "", 100 * MiB);
    section(&p, 1, "", 200 * MiB);
    bool foreign = true;
    struct grey_gpu_id b = gpu(UUID_B, 1);
    cr_assert_eq(section_for(&p, &b, &foreign), 1);
    cr_assert_not(foreign, "a plan that names no GPU is not from another node");
    struct grey_gpu_id far = gpu(UUID_B, 7);
    cr_assert_eq(section_for(&p, &far, &foreign), -1, "no [device 7]: no section");
    struct grey_gpu_id unknown = gpu(UUID_B, -1);
    cr_assert_eq(section_for(&p, &unknown, &foreign), -1, "an unknown index matches nothing");
}

Test(plan_gpus, a_plan_from_another_node_applies_by_index_and_says_so)
{
    struct grey_plan p = {0};
    section(&p, 0, UUID_GONE, 100 * MiB);
    bool foreign = false;
    struct grey_gpu_id a = gpu(UUID_A, 0);
    cr_assert_eq(section_for(&p, &a, &foreign), 0);
    cr_assert(foreign, "applied by index although it names a GPU that is not here");
}

Test(plan_gpus, a_section_naming_another_gpu_of_this_node_is_not_taken_by_index)
{
    struct grey_plan p = {0};
    section(&p, 0, UUID_B, 100 * MiB); /* B's section under A's number */
    bool foreign = true;
    struct grey_gpu_id a = gpu(UUID_A, 0);
    cr_assert_eq(section_for(&p, &a, &foreign), -1);
    cr_assert_not(foreign);
}

Test(plan_gpus, a_mig_instance_takes_its_own_section_else_its_gpus)
{
    struct grey_plan p = {0};
    section(&p, 0, UUID_A, 100 * MiB);
    section(&p, 3, MIG_A1, 50 * MiB);
    bool foreign = true;
    struct grey_gpu_id own = gpu(MIG_A1, 0);
    cr_assert_eq(section_for(&p, &own, &foreign), 3, "its own UUID first");
    struct grey_gpu_id other = gpu("MIG-a2a2a2a2-0000-0000-0000-000000000000", 0);
    cr_assert_eq(section_for(&p, &other, &foreign), 0, "else its GPU's section, by the GPU's UUID");
    cr_assert_not(foreign);

    struct grey_plan old = {0};
    section(&old, 0, "", 100 * MiB);
    cr_assert_eq(section_for(&old, &other, &foreign), 0, "or by the GPU's index in a plan without UUIDs");
    struct grey_gpu_id orphan = gpu("MIG-a2a2a2a2-0000-0000-0000-000000000000", -1);
    cr_assert_eq(section_for(&old, &orphan, &foreign), -1, "an instance whose GPU is unknown takes nothing");

    struct grey_plan sibling = {0};
    section(&sibling, 0, MIG_A1, 50 * MiB);
    cr_assert_eq(section_for(&sibling, &other, &foreign), -1, "another instance's section is that instance's alone");
    struct grey_gpu_id whole = gpu(UUID_A, 0);
    cr_assert_eq(section_for(&sibling, &whole, &foreign), -1, "and not the whole GPU's either");
}

Test(plan_gpus, a_section_finds_its_board_under_the_other_vendors_name)
{
    struct grey_plan p = {0};
    section(&p, 2, UUID_A, 100 * MiB); /* CUDA's name for GPU 0, under a number that is not its own */
    bool foreign = true;
    struct grey_gpu_id hip = gpu("GPU-A0A0A0A0A0A0A0A0", 0); /* HIP's name for GPU 0 */
    cr_assert_eq(section_for(&p, &hip, &foreign), 2, "this node places the section's UUID on the same board");
    cr_assert_not(foreign);
    struct grey_gpu_id hip1 = gpu("GPU-B0B0B0B0B0B0B0B0", 1);
    cr_assert_eq(section_for(&p, &hip1, &foreign), -1, "another board takes nothing");
}

Test(plan_gpus, sections_move_to_the_rows_they_apply_to)
{
    struct grey_plan in = {0};
    section(&in, 0, UUID_A, 100 * MiB);
    section(&in, 1, UUID_B, 200 * MiB);
    section(&in, 2, UUID_GONE, 300 * MiB);
    struct grey_gpu_id rows[GREY_MAX_DEVICES];
    memset(rows, 0, sizeof rows);
    rows[0] = gpu(UUID_B, 1);                 /* the job's first GPU is physical 1 */
    rows[1] = gpu("GPU-cccccccc-0000-0000-0000-000000000000", 2);
    rows[5] = gpu(UUID_A, 0);
    struct grey_plan out;
    grey_devmask foreign = 0;
    grey_plan_for_rows(&in, rows, GREY_DEVBIT(0) | GREY_DEVBIT(1) | GREY_DEVBIT(5), locate, NULL, &out,
                       &foreign);
    cr_assert(out.dev[0].present && out.dev[0].budget == 200 * MiB, "row 0 (GPU B) has B's budget");
    cr_assert(out.dev[1].present && out.dev[1].budget == 300 * MiB, "row 1 takes [device 2] by index");
    cr_assert(out.dev[5].present && out.dev[5].budget == 100 * MiB, "row 5 (GPU A) has A's budget");
    cr_assert_eq(foreign, GREY_DEVBIT(1), "only row 1 was placed despite its section's UUID");
    cr_assert_eq(out.ndevices, 6u);
    for (int r = 2; r < 5; r++)
        cr_assert_not(out.dev[r].present, "row %d is no GPU", r);
}
