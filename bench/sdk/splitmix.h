/* splitmix64: a small, fast, seedable random number stream (the same numbers everywhere). */
#pragma once
#include <stdint.h>

static inline uint64_t splitmix64_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* An independent stream for (seed, index, purpose): the same whatever order indexes are drawn in. */
static inline uint64_t splitmix64_stream(uint64_t seed, uint64_t index, uint64_t purpose)
{
	uint64_t s = seed ^ (purpose * 0xd1b54a32d192ed03ull);
	s ^= splitmix64_next(&s) + index;
	splitmix64_next(&s);
	return s;
}
