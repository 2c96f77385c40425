/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* The program break as /proc shows it. mm->brk itself is in no /proc file; the [heap] area of
 * /proc/PID/maps ends at PAGE_ALIGN(mm->brk) (show_map_vma() labels the area that spans start_brk..brk), and
 * with no such area the break is still start_brk (/proc/PID/stat field 47): do_brk_flags() maps a page as
 * soon as the break leaves start_brk's page. */

/* Reads maps_path up to the area past the [heap] areas (the areas below it are few; a large process's maps is not read
 * whole). *ret_end: the end of the [heap] area, or start_brk when there is none; *ret_has_heap says which. */
int heap_end_read(const char *maps_path, uint64_t start_brk, uint64_t *ret_end, bool *ret_has_heap);
/* The same over a buffer (tests, fuzzing). */
int heap_end_parse(const char *buf, uint64_t start_brk, uint64_t *ret_end, bool *ret_has_heap);
