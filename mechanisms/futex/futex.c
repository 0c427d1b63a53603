/*
 * futex: ping-pong on one futex word between two threads (private futex)
 * or two processes (the word in shared memory, shared futex). Each round
 * main hands the turn to the peer and wakes it, then sleeps until the peer
 * hands the turn back and wakes it: the sample is that round trip, two
 * wake-ups and two context switches, with nothing else in the way.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "mechanism.h"
#include "peer.h"
#include "placement.h"

struct futex_cfg {
	int placement;
};

static const struct opt_desc futex_opts[] = {
	OPT_ENUM_FIELD(struct futex_cfg, placement, "split", placement_names,
		       "split: main on cpu, peer on peer_cpu; same: both on cpu; "
		       "free: neither pinned, the kernel places both"),
	OPT_TABLE_END,
};

/* Values of the futex word: whose turn it is, or why the game is over. */
enum { TURN_MAIN, TURN_PEER, TURN_STOP, TURN_PEER_FAILED };
#define WAIT_ERROR UINT32_MAX   /* never stored: wait_while() failed */

/* In peer_shared_alloc memory for both variants; the word has its own line. */
struct futex_shared {
	uint32_t word __attribute__((aligned(BENCH_CACHELINE)));
	uint32_t ready __attribute__((aligned(BENCH_CACHELINE)));
};

/* In ctx->priv; a process peer works on its copy from the fork. */
struct futex_state {
	struct futex_shared *sh;
	int wait_op;
	int wake_op;
	bool process;
	struct peer peer;
};

static long futex_call(uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static uint32_t load_word(struct futex_state *st)
{
	return __atomic_load_n(&st->sh->word, __ATOMIC_ACQUIRE);
}

/*
 * Sleep while the word still reads `busy`. EAGAIN (it changed before we
 * slept) and spurious or signal wake-ups just send us round the loop: only
 * the word's value says whose turn it is. Returns the new value, or
 * WAIT_ERROR with errno set on an unexpected error.
 */
static uint32_t wait_while(struct futex_state *st, uint32_t busy)
{
	uint32_t v;

	while ((v = load_word(st)) == busy) {
		if (futex_call(&st->sh->word, st->wait_op, busy) != 0 &&
		    errno != EAGAIN && errno != EINTR)
			return WAIT_ERROR;
	}
	return v;
}

static int futex_peer_loop(void *arg)
{
	struct futex_state *st = arg;

	__atomic_store_n(&st->sh->ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		uint32_t v = wait_while(st, TURN_MAIN);
		if (v != TURN_PEER)
			break;
		/* A CAS, so that a stop stored meanwhile is never overwritten. */
		uint32_t expect = TURN_PEER;
		if (!__atomic_compare_exchange_n(&st->sh->word, &expect, TURN_MAIN, false,
						 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
			continue;
		if (futex_call(&st->sh->word, st->wake_op, 1) < 0)
			break;
	}
	if (load_word(st) == TURN_STOP)
		return 0;
	/* Tell main, which may be asleep on the word, that we gave up. */
	__atomic_store_n(&st->sh->word, TURN_PEER_FAILED, __ATOMIC_RELEASE);
	futex_call(&st->sh->word, st->wake_op, INT_MAX);
	return 1;
}

/* Bounded, so that a peer that never comes up is a clear failure, not a hang. */
static int wait_ready(struct mech_ctx *ctx, struct futex_state *st)
{
	const struct timespec one_ms = { .tv_nsec = 1000000 };

	for (int ms = 0; ms < PEER_READY_TIMEOUT_MS; ms++) {
		if (__atomic_load_n(&st->sh->ready, __ATOMIC_ACQUIRE))
			return BENCH_OK;
		nanosleep(&one_ms, NULL);
	}
	return mech_why(ctx, BENCH_FAIL, "the peer did not start within %d ms", PEER_READY_TIMEOUT_MS);
}

static void futex_teardown(struct mech_ctx *ctx);

static int futex_setup(struct mech_ctx *ctx, bool process)
{
	const struct futex_cfg *cfg = ctx->cfg;
	struct futex_state *st = ctx->priv;
	int peer_cpu;

	st->sh = peer_shared_alloc(sizeof(*st->sh));
	if (!st->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "cannot allocate shared memory");
	st->process = process;
	/* Private futexes skip the shared-mapping lookup: only valid within one process. */
	st->wait_op = st->process ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE;
	st->wake_op = st->process ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE;
	st->sh->word = TURN_MAIN;
	int rc = placement_apply(ctx, cfg->placement, &peer_cpu);
	if (rc == BENCH_OK)
		rc = peer_start_or_fail(ctx, &st->peer, st->process, peer_cpu, futex_peer_loop, st);
	if (rc == BENCH_OK)
		rc = wait_ready(ctx, st);
	if (rc != BENCH_OK)
		futex_teardown(ctx);
	return rc;
}

static int thread_setup(struct mech_ctx *ctx) { return futex_setup(ctx, false); }
static int process_setup(struct mech_ctx *ctx) { return futex_setup(ctx, true); }

static int futex_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct futex_state *st = ctx->priv;

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		__atomic_store_n(&st->sh->word, TURN_PEER, __ATOMIC_RELEASE);
		if (futex_call(&st->sh->word, st->wake_op, 1) < 0)
			return mech_why_errno(ctx, BENCH_FAIL, "FUTEX_WAKE");
		uint32_t v = wait_while(st, TURN_PEER);
		uint64_t t1 = tsc_end();
		if (v == WAIT_ERROR)
			return mech_why_errno(ctx, BENCH_FAIL, "FUTEX_WAIT");
		if (v != TURN_MAIN)
			return mech_why(ctx, BENCH_FAIL, "the peer failed (word %u)", v);
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static void futex_teardown(struct mech_ctx *ctx)
{
	struct futex_state *st = ctx->priv;

	if (!st || !st->sh)
		return;
	if (st->peer.started) {
		__atomic_store_n(&st->sh->word, TURN_STOP, __ATOMIC_RELEASE);
		futex_call(&st->sh->word, st->wake_op, INT_MAX);
		peer_stop(&st->peer, PEER_REAP_TIMEOUT_MS);
	}
	peer_shared_free(st->sh, sizeof(*st->sh));
	st->sh = NULL;
}

static const struct variant_desc futex_variants[] = {
	{ .name = "thread", .help = "two threads, FUTEX_PRIVATE_FLAG", .setup = thread_setup },
	{ .name = "process", .help = "two processes, futex word in shared memory", .setup = process_setup },
	{ NULL, NULL },
};

static const struct mechanism_ops futex_ops = {
	.name = "futex",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "futex wake/wait ping-pong round trip between threads or processes",
	.variants = futex_variants,
	.opts = futex_opts,
	.cfg_size = sizeof(struct futex_cfg),
	.priv_size = sizeof(struct futex_state),
	.unit = SAMPLE_CYCLES,
	.measure = futex_measure,
	.teardown = futex_teardown,
};
MECHANISM_REGISTER(futex_ops)
