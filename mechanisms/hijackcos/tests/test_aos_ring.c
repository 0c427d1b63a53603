/*
 * Unit test of the translator's ring (aos_ring.h):
 *  - empty: peek finds nothing; full: after `slots` reserves+publishes the
 *    next reserve fails, and one release makes room for exactly one;
 *  - wrap: 10 * slots messages through, each read back in order with its
 *    payload and checksum intact;
 *  - the payload check catches one flipped byte and a wrong checksum;
 *  - stress: one producer and one consumer thread, 10^7 messages of 64
 *    bytes with sequence numbers and checksums: none lost, reordered or
 *    damaged. The rate is printed (a benchmark, never asserted).
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../aos_ring.h"
#include "check.h"

#define SLOTS 64u
#define STRESS_MESSAGES 10000000ull
#define STRESS_BYTES 64u

static struct aos_ring *ring_new(uint32_t slots)
{
	struct aos_ring *r = aligned_alloc(64, aos_ring_bytes(slots));
	if (!r) {
		perror("aligned_alloc");
		exit(1);
	}
	memset(r, 0, aos_ring_bytes(slots));
	aos_ring_init(r, slots);
	return r;
}

static void put(struct aos_ring *r, uint64_t seq, uint32_t len)
{
	struct aos_ring_slot *s = aos_ring_reserve(r);
	CHECK_MSG(s != NULL, "reserve for message %llu", (unsigned long long)seq);
	if (!s)
		return;
	s->seq = seq;
	s->len = len;
	s->flags = 0;
	s->sum = aos_ring_fill(s->data, len, seq);
	aos_ring_publish(r);
}

static void test_empty_full_wrap(void)
{
	struct aos_ring *r = ring_new(SLOTS);
	CHECK(aos_ring_peek(r) == NULL);
	for (uint64_t i = 1; i <= SLOTS; i++)
		put(r, i, 16);
	CHECK_MSG(aos_ring_reserve(r) == NULL, "a full ring of %u slots refuses the next message", SLOTS);
	struct aos_ring_slot *s = aos_ring_peek(r);
	CHECK(s != NULL && s->seq == 1);
	aos_ring_release(r);
	CHECK_MSG(aos_ring_reserve(r) != NULL, "one release makes room");
	put(r, SLOTS + 1, 16);
	CHECK(aos_ring_reserve(r) == NULL);
	uint64_t expect = 2, bad = 0;
	while ((s = aos_ring_peek(r)) != NULL) {
		bad += s->seq != expect++ || aos_ring_check(s->data, s->len, s->seq, s->sum) != 0;
		aos_ring_release(r);
	}
	CHECK_MSG(bad == 0 && expect == SLOTS + 2, "drained up to %llu, %llu bad", (unsigned long long)expect,
		  (unsigned long long)bad);
	CHECK(aos_ring_peek(r) == NULL);
	/* Wrap the indices around the slots many times, with sizes up to a slot's. */
	uint64_t seq = 1000;
	expect = seq;
	bad = 0;
	for (unsigned round = 0; round < 10 * SLOTS; round++) {
		uint32_t len = (uint32_t)(round * 97u) % (AOS_RING_SLOT_DATA + 1);
		put(r, seq++, len);
		if (round % 3 == 2)
			while ((s = aos_ring_peek(r)) != NULL) {
				bad += s->seq != expect++ || aos_ring_check(s->data, s->len, s->seq, s->sum) != 0;
				aos_ring_release(r);
			}
	}
	while ((s = aos_ring_peek(r)) != NULL) {
		bad += s->seq != expect++ || aos_ring_check(s->data, s->len, s->seq, s->sum) != 0;
		aos_ring_release(r);
	}
	CHECK_MSG(bad == 0 && expect == seq, "wrap: %llu bad, ended at %llu of %llu", (unsigned long long)bad,
		  (unsigned long long)expect, (unsigned long long)seq);
	free(r);
}

static void test_damage_detected(void)
{
	uint8_t data[64];
	uint64_t sum = aos_ring_fill(data, sizeof(data), 7);
	CHECK(aos_ring_check(data, sizeof(data), 7, sum) == 0);
	data[13] ^= 1;
	CHECK_MSG(aos_ring_check(data, sizeof(data), 7, sum) != 0, "a flipped byte is caught");
	data[13] ^= 1;
	CHECK_MSG(aos_ring_check(data, sizeof(data), 7, sum + 1) != 0, "a wrong checksum is caught");
	CHECK_MSG(aos_ring_check(data, sizeof(data), 8, sum) != 0, "another message's bytes are caught");
}

struct stress {
	struct aos_ring *r;
	uint64_t full_spins;
};

/* Spin a little, then give the CPU away: on a shared machine both threads may sit on one CPU. */
static void backoff(unsigned spins)
{
	if (spins % 256)
		__builtin_ia32_pause();
	else
		sched_yield();
}

static void *producer(void *arg)
{
	struct stress *st = arg;
	for (uint64_t seq = 1; seq <= STRESS_MESSAGES; seq++) {
		struct aos_ring_slot *s;
		for (unsigned spins = 1; (s = aos_ring_reserve(st->r)) == NULL; spins++) {
			st->full_spins++;
			backoff(spins);
		}
		s->seq = seq;
		s->len = STRESS_BYTES;
		s->sum = aos_ring_fill(s->data, STRESS_BYTES, seq);
		aos_ring_publish(st->r);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_stress(void)
{
	struct stress st = { .r = ring_new(SLOTS) };
	pthread_t t;
	double t0 = now_s();
	CHECK(pthread_create(&t, NULL, producer, &st) == 0);
	uint64_t expect = 1, bad_seq = 0, bad_bytes = 0;
	for (unsigned spins = 1; expect <= STRESS_MESSAGES; spins++) {
		struct aos_ring_slot *s = aos_ring_peek(st.r);
		if (!s) {
			backoff(spins);
			continue;
		}
		bad_seq += s->seq != expect;
		bad_bytes += aos_ring_check(s->data, s->len, s->seq, s->sum);
		expect = s->seq + 1;
		aos_ring_release(st.r);
	}
	pthread_join(t, NULL);
	double secs = now_s() - t0;
	CHECK_MSG(bad_seq == 0 && bad_bytes == 0, "stress: %llu out of order, %llu bad bytes",
		  (unsigned long long)bad_seq, (unsigned long long)bad_bytes);
	CHECK(aos_ring_peek(st.r) == NULL);
	printf("ring: %llu messages of %u bytes in %.2f s: %.1f million/s (producer found it full %llu times)\n",
	       (unsigned long long)STRESS_MESSAGES, STRESS_BYTES, secs, (double)STRESS_MESSAGES / secs / 1e6,
	       (unsigned long long)st.full_spins);
	free(st.r);
}

int main(void)
{
	test_empty_full_wrap();
	test_damage_detected();
	test_stress();
	return check_failures ? 1 : 0;
}
