/* Room for one more element in a dynamic array that doubles when full: the one rule of every
 * table here that grows an element at a time (the VMM tables, the raw log reader, the waste
 * finder). */
#ifndef GREY_ARRAY_ROOM_H
#define GREY_ARRAY_ROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/* True when (*array)[count] may be written: the array had room, or was grown by realloc (*cap
 * then doubled, 16 elements the first time); false, with nothing changed, when out of memory. */
static inline bool grey_array_room(void **array, size_t count, size_t *cap, size_t element)
{
    if (count < *cap)
        return true;
    size_t bigger = *cap ? *cap * 2 : 16;
    if (bigger < *cap || bigger > SIZE_MAX / element)
        return false;
    void *p = realloc(*array, bigger * element);
    if (!p)
        return false;
    *array = p;
    *cap = bigger;
    return true;
}

#endif
