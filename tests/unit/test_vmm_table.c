/* shim/vmm_table.c: when the memory of a VMM handle is freed, by its last release or its last
 * unmap, whichever comes second. */
#include <criterion/criterion.h>

#include "shim/vmm_table.h"

static uint64_t freed[16];
static int freed_count;

static void on_freed(uint64_t key)
{
    cr_assert_lt(freed_count, 16);
    freed[freed_count++] = key;
}

static void reset(void)
{
    freed_count = 0;
    grey_vmm_fork_child(); /* an empty table */
}

#define MiB (1ull << 20)

Test(vmm_table, a_handle_never_mapped_is_not_followed, .init = reset)
{
    grey_vmm_lock();
    cr_assert_not(grey_vmm_known(1));
    grey_vmm_unlock();
}

Test(vmm_table, released_while_mapped_freed_at_the_last_unmap, .init = reset)
{
    grey_vmm_lock();
    cr_assert_eq(grey_vmm_add_mapping(0x100000000, 64 * MiB, 7), 0);
    cr_assert_eq(grey_vmm_add_mapping(0x200000000, 64 * MiB, 7), 0); /* a second mapping of it */
    cr_assert(grey_vmm_known(7));
    cr_assert_not(grey_vmm_released(7), "still mapped");
    grey_vmm_remove_range(0x100000000, 64 * MiB, on_freed);
    cr_assert_eq(freed_count, 0, "one mapping is left");
    cr_assert(grey_vmm_known(7));
    grey_vmm_remove_range(0x200000000, 64 * MiB, on_freed);
    cr_assert_eq(freed_count, 1);
    cr_assert_eq(freed[0], 7);
    cr_assert_not(grey_vmm_known(7));
    grey_vmm_remove_range(0x200000000, 64 * MiB, on_freed); /* nothing is left there */
    cr_assert_eq(freed_count, 1);
    grey_vmm_unlock();
}

Test(vmm_table, unmapped_first_freed_at_the_release, .init = reset)
{
    grey_vmm_lock();
    grey_vmm_add_mapping(0x100000000, 2 * MiB, 3);
    grey_vmm_remove_range(0x100000000, 2 * MiB, on_freed);
    cr_assert_eq(freed_count, 0, "the handle still holds the memory");
    cr_assert(grey_vmm_known(3));
    cr_assert(grey_vmm_released(3), "the release frees it");
    cr_assert_not(grey_vmm_known(3));
    grey_vmm_unlock();
}

Test(vmm_table, a_retained_handle_needs_one_more_release, .init = reset)
{
    grey_vmm_lock();
    grey_vmm_add_mapping(0x100000000, 2 * MiB, 5);
    grey_vmm_retained(5);
    cr_assert_not(grey_vmm_released(5));
    cr_assert_not(grey_vmm_released(5), "mapped still");
    grey_vmm_remove_range(0x100000000, 2 * MiB, on_freed);
    cr_assert_eq(freed_count, 1, "both references and the mapping are gone");
    grey_vmm_add_mapping(0x100000000, 2 * MiB, 6);
    grey_vmm_retained(6);
    grey_vmm_remove_range(0x100000000, 2 * MiB, on_freed);
    cr_assert_not(grey_vmm_released(6), "the retained reference is left");
    cr_assert(grey_vmm_released(6));
    cr_assert_eq(freed_count, 1, "a release that frees reports it; remove_range did not call");
    grey_vmm_unlock();
}

Test(vmm_table, one_unmap_over_several_handles, .init = reset)
{
    grey_vmm_lock();
    for (uint64_t k = 1; k <= 4; k++) {
        grey_vmm_add_mapping(0x100000000 + (k - 1) * 2 * MiB, 2 * MiB, k);
        if (k != 3)
            cr_assert_not(grey_vmm_released(k));
    }
    grey_vmm_remove_range(0x100000000, 8 * MiB, on_freed);
    cr_assert_eq(freed_count, 3, "handle 3 was never released");
    uint64_t sum = 0;
    for (int i = 0; i < freed_count; i++)
        sum += freed[i];
    cr_assert_eq(sum, 1 + 2 + 4);
    cr_assert(grey_vmm_known(3));
    grey_vmm_unlock();
}

Test(vmm_table, ranges_beside_the_unmap_stay, .init = reset)
{
    grey_vmm_lock();
    grey_vmm_add_mapping(0x100000000, 2 * MiB, 1);
    grey_vmm_add_mapping(0x100200000, 2 * MiB, 2);
    grey_vmm_released(1);
    grey_vmm_released(2);
    grey_vmm_remove_range(0x100200000, 2 * MiB, on_freed); /* touches only the second */
    cr_assert_eq(freed_count, 1);
    cr_assert_eq(freed[0], 2);
    cr_assert(grey_vmm_known(1));
    grey_vmm_unlock();
}

Test(vmm_table, the_lock_is_recursive, .init = reset)
{
    grey_vmm_lock();
    grey_vmm_lock();
    grey_vmm_unlock();
    grey_vmm_unlock();
}

static int counted;
static void count(uint64_t key)
{
    (void)key;
    counted++;
}

Test(vmm_table, many_mappings_grow_the_table, .init = reset)
{
    counted = 0;
    grey_vmm_lock();
    for (uint64_t i = 0; i < 1000; i++) {
        cr_assert_eq(grey_vmm_add_mapping(0x100000000 + i * 2 * MiB, 2 * MiB, 100 + i), 0);
        grey_vmm_released(100 + i);
    }
    grey_vmm_remove_range(0x100000000 + 10 * 2 * MiB, 990 * 2 * MiB, count);
    cr_assert_eq(counted, 990);
    cr_assert(grey_vmm_known(109));
    cr_assert_not(grey_vmm_known(110));
    grey_vmm_unlock();
}
