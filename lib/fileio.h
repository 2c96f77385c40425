/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Largest procfs/cgroupfs file a whole-file reader accepts. smaps is never read whole (fileio_read_chunks()):
 * a process chooses how long its smaps is. */
#define FILEIO_MAX_BYTES (64u * 1024 * 1024)

/* Size of the buffer fileio_read_chunks() reads through: one read() of a seq_file returns about this much. */
#define FILEIO_CHUNK_BYTES (64u * 1024)

/* Opens a file to read it: O_NONBLOCK, and only a regular file (-EISDIR, -EINVAL otherwise). Returns the fd
 * or -errno (-ENOENT for a vanished process). */
int fileio_open(const char *path);

/* Reads a whole file into a NUL-terminated buffer (procfs files report size 0, so it reads until EOF).
 * Returns 0 and the buffer in *ret_buf (caller frees) and its length in *ret_len (may be NULL);
 * -EFBIG past max_bytes; -errno of open/read otherwise (-ENOENT for a vanished process). */
int fileio_read_full(const char *path, size_t max_bytes, char **ret_buf, size_t *ret_len);

/* Called with each piece of the file, in order; a piece may end anywhere, even inside a line. Returns 0 to
 * go on, anything else to stop: fileio_read_chunks() then returns that value. */
typedef int (*fileio_chunk_fn)(const char *data, size_t n, void *userdata);

/* Reads a file to EOF through a buffer of chunk_bytes, handing each read to fn; no total size limit, memory
 * bounded by chunk_bytes. Returns 0 at EOF, fn's non-zero return, or -errno of open/read. */
int fileio_read_chunks(const char *path, size_t chunk_bytes, fileio_chunk_fn fn, void *userdata);

/* Writes len bytes of text to path through a temporary file beside it (".NAME.XXXXXX": a textfile collector's
 * *.prom glob skips it) renamed over path: a reader opens the old file or the new one, never a part. The new
 * file gets mode and, unless uid is (uid_t) -1, that owner and group. Returns 0 or -errno of the step that
 * failed, having removed the temporary file. */
int fileio_write_atomic(const char *path, const char *text, size_t len, mode_t mode, uid_t uid, gid_t gid);
