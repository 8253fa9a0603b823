/* The bounded history of freed buffers (policy/history.h). */
#include <criterion/criterion.h>

#include "policy/history.h"

struct seen {
    uint64_t first, last, count;
    bool ordered;
};

static void collect(const struct grey_freed *f, void *arg)
{
    struct seen *s = arg;
    if (s->count && f->info.addr <= s->last)
        s->ordered = false;
    if (!s->count)
        s->first = f->info.addr;
    s->last = f->info.addr;
    s->count++;
    cr_assert_eq(f->free_ticks, f->info.addr * 10, "the free time travels with its record");
}

static void push(uint64_t n)
{
    struct grey_buffer_info info = {.addr = n, .bytes = 4096};
    history_push(&info, n * 10, n);
}

Test(history, keeps_every_record_while_there_is_room)
{
    for (uint64_t i = 1; i <= 100; i++)
        push(i);
    struct seen s = {.ordered = true};
    cr_assert_eq(history_each(collect, &s), 100);
    cr_assert_eq(s.first, 1);
    cr_assert_eq(s.last, 100);
    cr_assert(s.ordered, "oldest first");
    cr_assert_eq(history_dropped(), 0);
    cr_assert_eq(history_pushed(), 100);
}

Test(history, stays_bounded_and_counts_what_it_dropped)
{
    uint64_t total = GREY_HISTORY_CAP * 3 + 17;
    for (uint64_t i = 1; i <= total; i++)
        push(i);
    struct seen s = {.ordered = true};
    cr_assert_eq(history_each(collect, &s), GREY_HISTORY_CAP);
    cr_assert_eq(s.last, total, "the newest record is kept");
    cr_assert_eq(s.first, total - GREY_HISTORY_CAP + 1, "the oldest ones go");
    cr_assert(s.ordered);
    cr_assert_eq(history_dropped(), total - GREY_HISTORY_CAP);
}

Test(history, reset_forgets_everything_before_it)
{
    for (uint64_t i = 1; i <= 10; i++)
        push(i);
    history_reset();
    struct seen s = {.ordered = true};
    cr_assert_eq(history_each(collect, &s), 0);
    cr_assert_eq(history_pushed(), 0);
    push(11);
    s = (struct seen){.ordered = true};
    cr_assert_eq(history_each(collect, &s), 1);
    cr_assert_eq(s.first, 11);
}
