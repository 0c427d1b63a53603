/*
 * m_jump, the memory-bus stressor of vLibOS (Ye et al., Listing 2): write 4
 * bytes at every `line` bytes of an array, jumping `jump` bytes after each
 * write so consecutive writes hit different DRAM rows:
 *
 *   for (j = 0; j < jump; j += line)
 *       for (i = j; i < size; i += jump)
 *           array[i] = i;
 *
 * One outer iteration (a "column") is size / jump writes. Header-only and
 * freestanding, so the host load generator, the real-time task of mechanism
 * vlib and the vLib OS guest all run the same loop.
 */
#pragma once
#include <stdint.h>

struct mjump_shape {
	uint64_t size_bytes;   /* paper: 6 MB */
	uint64_t line_bytes;   /* paper: 64 */
	uint64_t jump_bytes;   /* paper: 8 KB */
};

static inline uint64_t mjump_columns_per_pass(const struct mjump_shape *s)
{
	return s->jump_bytes / s->line_bytes;
}

/* NULL when the shape is usable, else why not (no allocation: freestanding too). */
static inline const char *mjump_shape_problem(const struct mjump_shape *s)
{
	if (s->line_bytes < 4 || s->line_bytes % 4 != 0)
		return "line must be a multiple of 4 bytes, at least 4";
	if (s->jump_bytes < s->line_bytes || s->jump_bytes % s->line_bytes != 0)
		return "jump must be a multiple of line";
	if (s->size_bytes < s->jump_bytes)
		return "size must be at least one jump";
	return 0;
}

/* Writes in one full pass over the array (every line once). */
static inline uint64_t mjump_writes_per_pass(const struct mjump_shape *s)
{
	uint64_t writes = 0;
	for (uint64_t j = 0; j < s->jump_bytes; j += s->line_bytes)
		writes += s->size_bytes >= j + 4 ? (s->size_bytes - j - 4) / s->jump_bytes + 1 : 0;
	return writes;
}

/* One column: the writes at offsets j, j + jump, j + 2 jump, ... Returns the writes made. */
static inline uint64_t mjump_column(volatile uint8_t *array, const struct mjump_shape *s, uint64_t column)
{
	uint64_t j = (column % mjump_columns_per_pass(s)) * s->line_bytes, writes = 0;
	for (uint64_t i = j; i + 4 <= s->size_bytes; i += s->jump_bytes, writes++)
		*(volatile uint32_t *)(array + i) = (uint32_t)i;
	return writes;
}
