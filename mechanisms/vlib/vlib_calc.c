/* Order statistics and ratios for the vlib experiments (vlib_calc.h). */
#include "vlib_calc.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t vlib_quantile(uint64_t *v, size_t n, double q)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	if (q <= 0)
		return v[0];
	size_t rank = (size_t)(q * (double)n + 0.999999);   /* nearest rank, 1-based */
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return v[rank - 1];
}

double vlib_ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

double vlib_floor_note(char *buf, size_t len, uint64_t exit_p50, uint64_t entry_p50, uint64_t floor_p50)
{
	uint64_t sum = exit_p50 + entry_p50;
	double r = vlib_ratio(sum, floor_p50);
	snprintf(buf, len, "vm exit p50 %llu + vm entry p50 %llu = %llu cycles; KVM floor round trip p50 %llu cycles "
		 "(real-mode out+jmp, same process): %.2fx the floor", (unsigned long long)exit_p50,
		 (unsigned long long)entry_p50, (unsigned long long)sum, (unsigned long long)floor_p50, r);
	return r;
}

double vlib_slowdown_pct(double with, double alone)
{
	return alone > 0 ? (with / alone - 1.0) * 100.0 : 0.0;
}

bool vlib_exit_entry(const struct vlib_run_stamps *r, uint64_t *exit_cycles, uint64_t *entry_cycles)
{
	if (!(r->h_enter < r->g_entry && r->g_entry <= r->g_exit && r->g_exit < r->h_exit))
		return false;
	*exit_cycles = r->h_exit - r->g_exit;
	*entry_cycles = r->g_entry - r->h_enter;
	return true;
}
