#include "samples.h"

#include <unistd.h>

void samples_prefault(struct samples *s)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t step = page > 0 ? (size_t)page / sizeof(uint64_t) : 512;
	volatile uint64_t *v = s->v;
	for (uint64_t i = 0; i < s->cap; i += step)
		v[i] = 0;
	if (s->cap)
		v[s->cap - 1] = 0;
}

const char *sample_unit_name(enum sample_unit u)
{
	return u == SAMPLE_NS ? "ns" : "cycles";
}
