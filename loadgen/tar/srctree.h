/*
 * A source-like tree, deterministic from a seed: `files` files under a
 * kernel-like folder layout (top folders, 32 files per folder), most of a
 * few KiB, some tens, a few hundreds, `total_bytes` in all; the text is
 * C-like lines. The same seed gives the same paths, sizes and bytes; each
 * file's bytes depend on (seed, index) alone.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SRCTREE_FILES_MAX 1000000
#define SRCTREE_SIZE_MB_MAX 2048
#define SRCTREE_MIN_AVG_BYTES 64   /* files * this must fit in the total */

struct srctree_plan {
	uint64_t seed;
	uint64_t total_bytes;
	uint32_t files;
	uint32_t *size;   /* bytes of each file */
};

/* NULL when size_mb MiB in `files` files is a valid tree, else why not. */
const char *srctree_check(int64_t size_mb, int64_t files);
/* Sizes of every file (summing to total_bytes exactly). 0, or -1 (out of memory, bad shape). */
int srctree_plan_make(struct srctree_plan *p, uint64_t seed, uint64_t total_bytes, uint32_t files);
void srctree_plan_free(struct srctree_plan *p);
/* File i's path relative to the tree's root ("drivers/net3/queue_1234.c"). 0, or -1 if it does not fit. */
int srctree_path(const struct srctree_plan *p, uint32_t i, char *buf, size_t len);
/* File i's bytes: len bytes of C-like text ending in a newline (none when len is 0). */
void srctree_fill(uint64_t seed, uint32_t i, char *buf, size_t len);
/* Write the tree under root (an existing folder). 0, or -1 with why. */
int srctree_write(const struct srctree_plan *p, const char *root, char *why, size_t why_len);
