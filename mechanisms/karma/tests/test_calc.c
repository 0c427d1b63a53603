/*
 * Karma's host-side logic without KVM:
 *  - the soft/hard decision: soft only when the requested delay is below
 *    the exit + entry cost (or already past), never with soft triggers off;
 *  - TSC deltas and the guest's TSC offset across a 64-bit wrap;
 *  - cycles <-> ns and TSC -> CLOCK_MONOTONIC (rounding never early, past
 *    deadlines before the anchor, never 0);
 *  - the deferred re-arm protocol (karma_deferred.h): in order, with a late
 *    guest (the VMM goes idle and the guest arms by hypercall), and with the
 *    guest's write racing the VMM's take, every release is armed exactly once.
 */
#include <stdint.h>

#include "../karma_calc.h"
#include "../karma_deferred.h"
#include "check.h"

static void test_decide(void)
{
	const uint64_t cost = 3000;
	CHECK(karma_trigger_decide(1000 + 2999, 1000, cost, true) == KARMA_TRIGGER_SOFT);
	CHECK(karma_trigger_decide(1000 + 3000, 1000, cost, true) == KARMA_TRIGGER_HARD);
	CHECK(karma_trigger_decide(1000 + 1000000, 1000, cost, true) == KARMA_TRIGGER_HARD);
	CHECK(karma_trigger_decide(500, 1000, cost, true) == KARMA_TRIGGER_SOFT);      /* already past */
	CHECK(karma_trigger_decide(1000 + 10, 1000, cost, false) == KARMA_TRIGGER_HARD);
	CHECK(karma_trigger_decide(500, 1000, cost, false) == KARMA_TRIGGER_HARD);
	CHECK(karma_trigger_decide(1000 + 10, 1000, 0, true) == KARMA_TRIGGER_HARD);   /* not calibrated yet */
	/* across the wrap: request just below 2^64, deadline just after */
	uint64_t req = UINT64_MAX - 100;
	CHECK(karma_trigger_decide(req + 200, req, cost, true) == KARMA_TRIGGER_SOFT);
	CHECK(karma_trigger_decide(req + 5000, req, cost, true) == KARMA_TRIGGER_HARD);
}

static void test_tsc(void)
{
	CHECK(karma_tsc_delta(5, UINT64_MAX - 4) == 10);
	CHECK(karma_tsc_delta(UINT64_MAX - 4, 5) == -10);
	/* guest = host + offset, both signs, and wrapping */
	CHECK_EQ_U64(karma_guest_to_host_tsc(1000 + 250, 250), 1000);
	CHECK_EQ_U64(karma_guest_to_host_tsc(1000 - 250, -250), 1000);
	CHECK_EQ_U64(karma_guest_to_host_tsc(5, 10), UINT64_MAX - 4);
	CHECK_EQ_U64(karma_cycles_to_ns(3000000, 3000000), 1000000);   /* 3 GHz: 3e6 cycles = 1 ms */
	CHECK_EQ_U64(karma_cycles_to_ns(UINT64_MAX, 1000000), UINT64_MAX);
	CHECK_EQ_U64(karma_cycles_to_ns(5, 0), 0);
	CHECK_EQ_U64(karma_ns_to_cycles(1, 2500000), 3);                /* 2.5 cycles rounds up */
	CHECK_EQ_U64(karma_ns_to_cycles(1000, 3000000), 3000);
	/* a deadline 3000 cycles after the anchor at 3 GHz: 1000 ns later; one cycle later rounds up */
	CHECK_EQ_U64(karma_tsc_to_mono_ns(13000, 10000, 5000000, 3000000), 5001000);
	CHECK_EQ_U64(karma_tsc_to_mono_ns(13001, 10000, 5000000, 3000000), 5001001);
	CHECK_EQ_U64(karma_tsc_to_mono_ns(7000, 10000, 5000000, 3000000), 4999000);  /* past */
	CHECK_EQ_U64(karma_tsc_to_mono_ns(0, UINT64_MAX - 2999, 5000000, 3000000), 5001000);   /* wrap */
	CHECK_EQ_U64(karma_tsc_to_mono_ns(0, 30000000, 5000, 3000000), 1);            /* never 0 */
}

/*
 * A model of both sides: the VMM's armed deadline (0: none) and the releases
 * armed, in order. The guest arms release 1 by hypercall.
 */
struct model {
	uint64_t word, armed, arms[64];
	unsigned n_arms;
};

static void vmm_arm(struct model *m, uint64_t d)
{
	m->armed = d;
	m->arms[m->n_arms++] = d;
}

/* The armed timer expires: the VMM takes the next deadline. */
static void vmm_expire(struct model *m)
{
	CHECK(m->armed != 0);
	m->armed = 0;
	uint64_t d = karma_deferred_take(&m->word);
	if (d)
		vmm_arm(m, d);
}

/* The guest after handling release k - 1 publishes k + 1 (releases are k * 10). */
static void guest_publish(struct model *m, uint64_t k)
{
	if (karma_deferred_publish(&m->word, (k + 1) * 10))
		vmm_arm(m, (k + 1) * 10);   /* the hypercall path */
}

static void check_arms(const struct model *m, unsigned n)
{
	CHECK_EQ_U64(m->n_arms, n);
	for (unsigned i = 0; i < m->n_arms && i < n; i++)
		CHECK_EQ_U64(m->arms[i], (i + 1) * 10ull);
}

static void test_deferred(void)
{
	/* in order: the guest publishes before each expiry */
	struct model m = { 0 };
	vmm_arm(&m, 10);
	guest_publish(&m, 1);
	for (uint64_t k = 2; k <= 6; k++) {
		vmm_expire(&m);        /* release k-1 fires; k is armed from the word */
		guest_publish(&m, k);  /* the guest handled k-1 */
	}
	check_arms(&m, 6);         /* 10 by hypercall, 20 - 60 at expiries */
	CHECK_EQ_U64(m.armed, 60);
	CHECK_EQ_U64(m.word, 70);  /* waits for 60's expiry */

	/* late guest: release 3 expires before the guest published 4 */
	struct model l = { 0 };
	vmm_arm(&l, 10);
	guest_publish(&l, 1);
	vmm_expire(&l);            /* 1 fires, 2 armed */
	guest_publish(&l, 2);      /* 3 published */
	vmm_expire(&l);            /* 2 fires, 3 armed */
	vmm_expire(&l);            /* 3 fires before 4 is published: the VMM goes idle */
	CHECK_EQ_U64(l.word, KARMA_NEXT_IDLE);
	CHECK_EQ_U64(l.armed, 0);
	guest_publish(&l, 3);      /* sees idle: arms 4 by hypercall, the word back to 0 */
	CHECK_EQ_U64(l.word, 0);
	CHECK_EQ_U64(l.armed, 40);
	guest_publish(&l, 4);      /* 5 published, in time again */
	vmm_expire(&l);            /* 4 fires, 5 armed */
	check_arms(&l, 5);

	/* the take racing with a publish: a write already there is taken, never lost nor doubled */
	uint64_t w = 0;
	CHECK(!karma_deferred_publish(&w, 30));
	CHECK_EQ_U64(karma_deferred_take(&w), 30);
	CHECK_EQ_U64(w, 0);
	CHECK_EQ_U64(karma_deferred_take(&w), 0);
	CHECK_EQ_U64(w, KARMA_NEXT_IDLE);
	CHECK_EQ_U64(karma_deferred_take(&w), 0);   /* idle stays idle */
	CHECK(karma_deferred_publish(&w, 40));
	CHECK_EQ_U64(w, 0);
}

int main(void)
{
	test_decide();
	test_tsc();
	test_deferred();
	if (check_failures)
		fprintf(stderr, "%d failure(s)\n", check_failures);
	return check_failures ? 1 : 0;
}
