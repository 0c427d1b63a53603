/*
 * Benchmark of the translator's ring (aos_ring.h): one producer and one
 * consumer thread pinned to two CPUs move N messages of 64 bytes (memcpy in,
 * memcpy out, sequence numbers checked: none lost or reordered). Prints the
 * rate of each of ROUNDS rounds and their median, against the target of 10
 * million messages per second; exit 1 when the median is below it, 77 when
 * the machine has fewer than two CPUs to pin to. Payload checksums are the
 * unit test's (test_aos_ring.c): their per-byte arithmetic would be what
 * this measured.
 *
 *   bench-hijackcos-aos-ring [MESSAGES] [SLOTS]
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../aos_ring.h"

#define ROUNDS 5
#define MESSAGE_BYTES 64u
#define TARGET_PER_S 10e6

struct side {
	struct aos_ring *r;
	int cpu;
	uint64_t messages;
	uint64_t full_spins;
	int pin_err;
};

static int pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *producer(void *arg)
{
	struct side *p = arg;
	uint8_t msg[MESSAGE_BYTES];
	memset(msg, 0x5a, sizeof(msg));
	p->pin_err = pin(p->cpu);
	for (uint64_t seq = 1; seq <= p->messages; seq++) {
		struct aos_ring_slot *s;
		while ((s = aos_ring_reserve(p->r)) == NULL) {
			p->full_spins++;
			__builtin_ia32_pause();
		}
		s->seq = seq;
		s->len = MESSAGE_BYTES;
		memcpy(s->data, msg, MESSAGE_BYTES);
		aos_ring_publish(p->r);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One round: messages per second, or -1 on a lost or reordered message (said on stderr). */
static double round_rate(uint32_t slots, uint64_t messages, int cpu_p, int cpu_c)
{
	struct aos_ring *r = aligned_alloc(64, aos_ring_bytes(slots));
	if (!r) {
		perror("aligned_alloc");
		return -1;
	}
	memset(r, 0, aos_ring_bytes(slots));
	aos_ring_init(r, slots);
	struct side p = { .r = r, .cpu = cpu_p, .messages = messages };
	int err = pin(cpu_c);
	if (err) {
		fprintf(stderr, "bench-aos-ring: pinning the consumer to CPU %d: %s\n", cpu_c, strerror(err));
		free(r);
		return -1;
	}
	pthread_t t;
	double t0 = now_s();
	err = pthread_create(&t, NULL, producer, &p);
	if (err) {
		fprintf(stderr, "bench-aos-ring: pthread_create: %s\n", strerror(err));
		free(r);
		return -1;
	}
	uint8_t out[MESSAGE_BYTES];
	uint64_t expect = 1, bad = 0;
	while (expect <= messages) {
		struct aos_ring_slot *s = aos_ring_peek(r);
		if (!s) {
			__builtin_ia32_pause();
			continue;
		}
		memcpy(out, s->data, MESSAGE_BYTES);
		bad += s->seq != expect || out[MESSAGE_BYTES - 1] != 0x5a;
		expect = s->seq + 1;
		aos_ring_release(r);
	}
	double secs = now_s() - t0;
	pthread_join(t, NULL);
	free(r);
	if (p.pin_err) {
		fprintf(stderr, "bench-aos-ring: pinning the producer to CPU %d: %s\n", cpu_p, strerror(p.pin_err));
		return -1;
	}
	if (bad) {
		fprintf(stderr, "bench-aos-ring: %llu messages lost, reordered or damaged\n", (unsigned long long)bad);
		return -1;
	}
	printf("  %llu messages in %.3f s: %.2f million/s (producer found the ring full %llu times)\n",
	       (unsigned long long)messages, secs, (double)messages / secs / 1e6, (unsigned long long)p.full_spins);
	return (double)messages / secs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	uint64_t messages = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000ull;
	uint32_t slots = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 256u;
	if (messages == 0 || slots < 2 || (slots & (slots - 1))) {
		fprintf(stderr, "usage: bench-hijackcos-aos-ring [MESSAGES > 0] [SLOTS: a power of two >= 2]\n");
		return 2;
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) < 2) {
		printf("SKIP: two CPUs are needed to pin producer and consumer apart\n");
		return 77;
	}
	int cpus[2], n = 0;
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	printf("ring: %u slots, %u-byte messages, producer on CPU %d, consumer on CPU %d\n", slots, MESSAGE_BYTES,
	       cpus[0], cpus[1]);
	double rate[ROUNDS];
	for (int i = 0; i < ROUNDS; i++) {
		rate[i] = round_rate(slots, messages, cpus[0], cpus[1]);
		if (rate[i] < 0)
			return 1;
	}
	qsort(rate, ROUNDS, sizeof(rate[0]), cmp_double);
	double median = rate[ROUNDS / 2];
	printf("ring throughput: median %.2f million messages/s over %d rounds (min %.2f, max %.2f); target %.0f "
	       "million/s: %s\n", median / 1e6, ROUNDS, rate[0] / 1e6, rate[ROUNDS - 1] / 1e6, TARGET_PER_S / 1e6,
	       median >= TARGET_PER_S ? "met" : "NOT met");
	return median >= TARGET_PER_S ? 0 : 1;
}
