/* policy/file_owner.h: who is root when a file is seen from inside a user namespace. */
#include <criterion/criterion.h>

#include "policy/file_owner.h"

#define INITIAL "         0          0 4294967295\n"
#define UNSHARE_UR "         0       1000          1\n" /* unshare -Ur by uid 1000 */
#define CONTAINER "0 0 1\n1 100000 65536\n"             /* root kept, the rest shifted */

Test(file_owner, initial_namespace_root_is_uid_0)
{
    cr_assert(grey_owner_is_root_in(0, INITIAL, 65534));
    cr_assert_not(grey_owner_is_root_in(1000, INITIAL, 65534));
    cr_assert_not(grey_owner_is_root_in(65534, INITIAL, 65534), "nobody's files are nobody's");
}

Test(file_owner, in_unshare_ur_uid_0_is_the_user_and_unmapped_owners_are_outside)
{
    cr_assert_not(grey_owner_is_root_in(0, UNSHARE_UR, 65534), "the user's own files appear as uid 0");
    cr_assert(grey_owner_is_root_in(65534, UNSHARE_UR, 65534), "root's file appears as the overflow uid");
    cr_assert_not(grey_owner_is_root_in(12, UNSHARE_UR, 65534), "a uid the kernel never shows here");
}

Test(file_owner, a_mapped_root_is_root_and_a_mapped_overflow_uid_is_not)
{
    cr_assert(grey_owner_is_root_in(0, CONTAINER, 65534));
    cr_assert_not(grey_owner_is_root_in(65534, CONTAINER, 65534), "65534 maps to 165533: a container user");
    cr_assert_not(grey_owner_is_root_in(5, CONTAINER, 65534));
}

Test(file_owner, no_map_falls_back_to_uid_0_and_garbage_maps_nothing)
{
    cr_assert(grey_owner_is_root_in(0, NULL, 65534));
    cr_assert_not(grey_owner_is_root_in(65534, NULL, 65534));
    cr_assert_not(grey_owner_is_root_in(0, "garbage\n", 65534));
    cr_assert(grey_owner_is_root_in(65534, "garbage\n", 65534));
}

Test(file_owner, this_process)
{
    /* Read from /proc/self: an ordinary uid is mapped to itself in the initial namespace, and
     * is neither mapped to 0 nor the overflow uid in any other. */
    cr_assert_not(grey_owner_is_root(4242), "an ordinary uid is not root here");
}
