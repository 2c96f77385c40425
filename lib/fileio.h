/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Largest procfs/cgroupfs file a reader accepts: the smaps of a process with ~100k mappings. */
#define FILEIO_MAX_BYTES (64u * 1024 * 1024)

/* Reads a whole file into a NUL-terminated buffer (procfs files report size 0, so it reads until EOF).
 * Returns 0 and the buffer in *ret_buf (caller frees) and its length in *ret_len (may be NULL);
 * -EFBIG past max_bytes; -errno of open/read otherwise (-ENOENT for a vanished process). */
int fileio_read_full(const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len);
