/*
 * The compute- and memory-heavy co-runner that stands in for the paper's
 * Darknet (vLibOS section 5.4): each round multiplies two 64 x 64 integer
 * matrices (compute, cache-resident) and then streams a read-modify-write
 * over the next slice of a large buffer (memory bandwidth). Integers only,
 * no libc: compiled into the harness (a host thread) and into the vLib OS
 * guest image (VLIB_OP_CORUNNER). Not Darknet: no neural network, no GPU.
 */
#pragma once
#include <stdint.h>

#define CORUNNER_N 64
#define CORUNNER_SLICE_BYTES (256u << 10)   /* streamed per round */

struct corunner_mats {
	uint32_t a[CORUNNER_N][CORUNNER_N], b[CORUNNER_N][CORUNNER_N], c[CORUNNER_N][CORUNNER_N];
};

static inline void corunner_init(struct corunner_mats *m)
{
	for (int i = 0; i < CORUNNER_N; i++)
		for (int j = 0; j < CORUNNER_N; j++) {
			m->a[i][j] = (uint32_t)(i * 31 + j);
			m->b[i][j] = (uint32_t)(j * 17 + i + 1);
		}
}

/* One round; returns the bytes streamed. *pos walks the buffer (wraps). */
static inline uint64_t corunner_round(struct corunner_mats *m, volatile uint64_t *buf, uint64_t buf_bytes,
				      uint64_t *pos)
{
	for (int i = 0; i < CORUNNER_N; i++)
		for (int j = 0; j < CORUNNER_N; j++) {
			uint32_t s = 0;
			for (int k = 0; k < CORUNNER_N; k++)
				s += m->a[i][k] * m->b[k][j];
			m->c[i][j] = s;
		}
	m->a[0][0] += m->c[CORUNNER_N - 1][CORUNNER_N - 1];   /* the next round depends on this one */
	uint64_t words = CORUNNER_SLICE_BYTES / 8, n = buf_bytes / 8;
	if (n < words)
		words = n;
	for (uint64_t w = 0; w < words; w++) {
		if (*pos >= n)
			*pos = 0;
		buf[*pos] += w;
		(*pos)++;
	}
	return words * 8;
}
