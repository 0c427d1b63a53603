/*
 * signal: POSIX signal delivery latency, one way, from just before the
 * sending system call to the first instruction of the handler. Seed 001
 * (ULS) reports 6000 cycles to the current process and 46000 to a
 * different one.
 *
 * The signal is SIGUSR1, not a real-time signal: exactly one signal is in
 * flight at any time (the next is sent only after the handler has run and
 * the peer waits again), so real-time queueing would buy nothing; the
 * kernel allocates the same struct sigqueue for both kinds, and SIGUSR1 is
 * the classic path the paper measured.
 *
 * With a peer, `placement` = "split" puts it on peer_cpu and the sender
 * spins on the peer's round counter (cross-CPU: TSC sync checked first);
 * "same" puts it on the sender's CPU, where spinning would starve it, so
 * the sender blocks in a futex and the latency includes that context
 * switch, as on the paper's uniprocessor.
 *
 * The handler, the peers and the choice of fences: sigpeer.h.
 */
#include <cpuid.h>
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mechanism.h"
#include "peer.h"
#include "placement.h"
#include "sigpeer.h"

#define ROUND_BOUND_NS 1000000000ull   /* no delivery legitimately takes 1 s */
#define START_BOUND_NS 5000000000ull   /* fork + mlockall of a peer */
#define SETTLE_NS 20000ull             /* lets a split peer reach its sleep */

/* The shared enum placement's first two values: signal has no "free". */
static const char *const placement_choices[] = { "split", "same", NULL };

struct signal_cfg {
	int placement;
};

/*
 * The peer variants' option. It stays in the mechanism's table, where self
 * accepts and ignores it: suites (mechanisms/uls/tests/regression.toml) set
 * it on blocks that list self with process.
 */
static const struct opt_desc signal_opts[] = {
	OPT_ENUM_FIELD(struct signal_cfg, placement, "split", placement_choices,
		       "thread/process (self ignores it): peer on peer_cpu and the sender spins (split), "
		       "or peer on the measuring CPU and the sender blocks in a futex, so the latency "
		       "includes a context switch as on the paper's uniprocessor (same)"),
	OPT_TABLE_END,
};

/* Where the signal goes: what distinguishes the three variants. */
enum sig_target { SIG_TO_SELF, SIG_TO_THREAD, SIG_TO_PROCESS };

/* ctx->priv */
struct sig_state {
	struct sig_shared *sh;
	enum sig_target target;
	bool blocking;                  /* the sender blocks instead of spinning */
	bool handler_set, mask_set, thread_running;
	pid_t peer_pid, tgid, tid;      /* the signal's target */
	pthread_t peer_thread;
	struct sigaction old_act;
	sigset_t old_mask;
	int expect_cpu;                 /* where the handler must run, -1 = anywhere */
	uint64_t round_bound_cycles, start_bound_cycles, settle_cycles;
	uint64_t awake_rounds;
};

enum { ROUND_FAIL = BENCH_FAIL, ROUND_OK = 0, ROUND_AWAKE = 1 };

/* Wait until the round counter moves past r, spinning or blocking. */
static int wait_round(struct sig_shared *sh, uint32_t r, bool block, uint64_t bound_cycles)
{
	uint64_t t0 = tsc_start();

	for (unsigned n = 1;; n++) {
		if (atomic_load_explicit(&sh->round, memory_order_acquire) != r)
			return 0;
		if ((block || (n & 1023) == 0) && tsc_start() - t0 > bound_cycles)
			return ETIMEDOUT;
		if (!block) {
			__builtin_ia32_pause();
			continue;
		}
		struct timespec slice = { .tv_nsec = 100 * 1000 * 1000 };
		if (sig_futex(&sh->round, FUTEX_WAIT, r, &slice) < 0 &&
		    errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
			return errno;
	}
}

static void settle(const struct sig_state *st)
{
	uint64_t t0 = tsc_start();

	while (tsc_start() - t0 < st->settle_cycles)
		__builtin_ia32_pause();
}

static inline int send_signal(const struct sig_state *st)
{
	if (st->target == SIG_TO_PROCESS)
		return kill(st->peer_pid, SIG_USED);
	return tgkill(st->tgid, st->tid, SIG_USED);
}

static int signal_round(struct mech_ctx *ctx, struct sig_state *st, uint64_t *cycles)
{
	struct sig_shared *sh = st->sh;
	uint32_t r = atomic_load_explicit(&sh->round, memory_order_acquire);
	uint32_t d = atomic_load_explicit(&sh->delivered, memory_order_relaxed);

	if (st->target != SIG_TO_SELF && !st->blocking)
		settle(st);
	uint64_t t0 = tsc_start();   /* the timed span ends in the handler: sigpeer.h */
	if (send_signal(st) < 0)
		return mech_why_errno(ctx, ROUND_FAIL, "sending signal %d", SIG_USED);
	if (st->target != SIG_TO_SELF) {
		int err = wait_round(sh, r, st->blocking, st->round_bound_cycles);
		if (err == ETIMEDOUT)
			return mech_why(ctx, ROUND_FAIL, "the peer's handler did not run within the bound");
		if (err)
			return mech_why(ctx, ROUND_FAIL, "waiting for the peer: %s", strerror(err));
		if (atomic_load(&sh->err))
			return mech_why(ctx, ROUND_FAIL, "peer failed: %s", strerror(atomic_load(&sh->err)));
	}
	if (atomic_load_explicit(&sh->delivered, memory_order_acquire) == d)
		return mech_why(ctx, ROUND_FAIL, "signal sent but the handler did not run");
	int64_t delta = (int64_t)(atomic_load_explicit(&sh->stamp_cycles, memory_order_relaxed) - t0);
	if (delta < 0)
		return mech_why(ctx, ROUND_FAIL, "handler stamp %lld cycles before the send: TSCs out of sync",
				(long long)-delta);
	*cycles = (uint64_t)delta;
	if (st->target != SIG_TO_SELF && !atomic_load_explicit(&sh->slept, memory_order_relaxed))
		return ROUND_AWAKE;
	return ROUND_OK;
}

/* thread, process (self needs no probe). */
static int signal_probe_peer(struct mech_ctx *ctx)
{
	const struct signal_cfg *cfg = ctx->cfg;

	if (ctx->cpu < 0)
		return mech_why(ctx, BENCH_SKIP, "needs a pinned measuring CPU: placement and TSC deltas depend on it");
	if (cfg->placement == PLACE_SPLIT && (ctx->peer_cpu < 0 || ctx->peer_cpu == ctx->cpu))
		return mech_why(ctx, BENCH_SKIP,
				"placement \"split\" needs a peer CPU other than CPU %d (placement \"same\" does not)",
				ctx->cpu);
	return BENCH_OK;
}

static int set_mask(struct mech_ctx *ctx, struct sig_state *st, int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIG_USED);
	int err = pthread_sigmask(how, &set, &st->old_mask);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "pthread_sigmask: %s", strerror(err));
	st->mask_set = true;
	return BENCH_OK;
}

static int set_handler(struct mech_ctx *ctx, struct sig_state *st)
{
	if (sig_install_handler(&st->old_act))
		return mech_why_errno(ctx, BENCH_FAIL, "sigaction");
	st->handler_set = true;
	return BENCH_OK;
}

static int start_peer(struct mech_ctx *ctx, struct sig_state *st, int peer_cpu)
{
	struct mech_ctx pctx = *ctx;   /* peer.h pins to pctx.peer_cpu */
	int err;

	pctx.peer_cpu = peer_cpu;
	if (st->target == SIG_TO_THREAD) {
		/* Blocked here, the signal can only be taken by the peer, which inherits the mask. */
		if (set_mask(ctx, st, SIG_BLOCK) || set_handler(ctx, st))
			return BENCH_FAIL;
		err = peer_thread_start(&pctx, &st->peer_thread, sig_peer_thread, st->sh);
		st->thread_running = !err;
	} else {
		err = peer_process_start(&pctx, &st->peer_pid, sig_peer_process, st->sh);
	}
	if (err)
		return mech_why(ctx, BENCH_FAIL, "starting the peer: %s", strerror(err));

	/*
	 * Block: with placement "same" the peer shares our CPU and would
	 * never run while we spin at our priority.
	 */
	err = wait_round(st->sh, 0, true, st->start_bound_cycles);
	if (err || atomic_load(&st->sh->err))
		return mech_why(ctx, BENCH_FAIL, "peer did not start: %s",
				err == ETIMEDOUT ? "not ready in time" :
				strerror(err ? err : atomic_load(&st->sh->err)));
	st->tgid = st->target == SIG_TO_THREAD ? getpid() : st->peer_pid;
	st->tid = atomic_load(&st->sh->tid);
	if (st->target == SIG_TO_PROCESS) {
		int mlock_err = atomic_load(&st->sh->mlock_err);
		report_kv(ctx->report, "peer_mlock", "%s", mlock_err ? strerror(mlock_err) : "ok");
	}
	return BENCH_OK;
}

static int setup_peer(struct mech_ctx *ctx, struct sig_state *st)
{
	const struct signal_cfg *cfg = ctx->cfg;
	bool same = cfg->placement == PLACE_SAME;
	int peer_cpu = same ? ctx->cpu : ctx->peer_cpu;

	st->blocking = same;
	st->sh->wake_main = same;
	st->expect_cpu = peer_cpu;
	report_kv(ctx->report, "placement", "%s: the sender %s", same ? "same" : "split",
		  same ? "blocks in FUTEX_WAIT (includes its context switch)" : "spins on a shared counter");
	report_int(ctx->report, "sender_cpu", ctx->cpu, "");
	report_int(ctx->report, "peer_cpu", peer_cpu, "");
	if (!same) {
		int rc = placement_tsc_check(ctx, ctx->cpu, ctx->peer_cpu);
		if (rc)
			return rc;
		/* spin before each send so the peer is asleep */
		report_int(ctx->report, "settle_ns", SETTLE_NS, "ns");
	}
	return start_peer(ctx, st, peer_cpu);
}

static int setup_self(struct mech_ctx *ctx, struct sig_state *st)
{
	st->expect_cpu = ctx->cpu;
	st->tgid = getpid();
	st->tid = gettid();
	report_kv(ctx->report, "placement", "self");
	report_int(ctx->report, "sender_cpu", ctx->cpu, "");
	return set_mask(ctx, st, SIG_UNBLOCK) ? BENCH_FAIL : set_handler(ctx, st);
}

/* One untimed round: the path works and the handler runs where it should. */
static int check_round(struct mech_ctx *ctx, struct sig_state *st)
{
	uint64_t cycles;
	int rc = signal_round(ctx, st, &cycles);

	if (rc == ROUND_FAIL)
		return BENCH_FAIL;
	unsigned cpu = atomic_load(&st->sh->handler_cpu);
	report_int(ctx->report, "handler_cpu", cpu, "");
	if (st->expect_cpu >= 0 && cpu != (unsigned)st->expect_cpu)
		return mech_why(ctx, BENCH_FAIL, "handler ran on CPU %u, expected CPU %d", cpu, st->expect_cpu);
	return BENCH_OK;
}

static int signal_setup(struct mech_ctx *ctx, enum sig_target target)
{
	struct sig_state *st = ctx->priv;
	uint64_t round_ns = ROUND_BOUND_NS;

	if (ctx->timeout_ns && ctx->timeout_ns < round_ns)
		round_ns = ctx->timeout_ns;
	st->target = target;
	st->round_bound_cycles = tsc_ns_to_cycles(round_ns, ctx->tsc->tsc_khz);
	st->start_bound_cycles = tsc_ns_to_cycles(START_BOUND_NS, ctx->tsc->tsc_khz);
	st->settle_cycles = tsc_ns_to_cycles(SETTLE_NS, ctx->tsc->tsc_khz);
	st->sh = peer_shared_alloc(sizeof(*st->sh));
	if (!st->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared page");
	sig_attach(st->sh);
	report_kv(ctx->report, "signal", "SIGUSR1 via %s, timed from before the send to the handler's first instruction",
		  target == SIG_TO_PROCESS ? "kill()" : "tgkill()");

	int rc = target == SIG_TO_SELF ? setup_self(ctx, st) : setup_peer(ctx, st);
	return rc ? rc : check_round(ctx, st);
}

static int signal_setup_self(struct mech_ctx *ctx) { return signal_setup(ctx, SIG_TO_SELF); }
static int signal_setup_thread(struct mech_ctx *ctx) { return signal_setup(ctx, SIG_TO_THREAD); }
static int signal_setup_process(struct mech_ctx *ctx) { return signal_setup(ctx, SIG_TO_PROCESS); }

/*
 * Which extended-state components (AVX, AVX-512...) are in use (XINUSE,
 * XGETBV with ECX = 1): the kernel saves and restores them in every signal
 * frame, so a process that has touched AVX-512 pays more per delivery.
 * Returns false where the CPU cannot tell.
 */
static bool xstate_in_use(uint64_t *mask)
{
	unsigned a, b, c, d;
	if (!__get_cpuid_count(0xd, 1, &a, &b, &c, &d) || !(a & (1u << 2)))
		return false;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(1));
	*mask = ((uint64_t)hi << 32) | lo;
	return true;
}

static int signal_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct sig_state *st = ctx->priv;
	uint64_t xinuse;
	if (xstate_in_use(&xinuse))
		report_kv(ctx->report, "xstate_in_use_at_start", "0x%llx (XINUSE: AVX 0x4, AVX-512 0xe0)",
			  (unsigned long long)xinuse);
	/* More unsampled rounds than wanted samples means the peer never sleeps. */
	uint64_t awake_limit = s->cap + s->warmup_target + 1000;
	int rc = BENCH_OK;

	while (!samples_full(s)) {
		uint64_t cycles;
		int r = signal_round(ctx, st, &cycles);
		if (r == ROUND_OK) {
			samples_add(s, cycles);
		} else if (r == ROUND_FAIL) {
			rc = BENCH_FAIL;
			break;
		} else if (++st->awake_rounds > awake_limit) {
			rc = mech_why(ctx, BENCH_FAIL, "the peer was awake at the send in %llu rounds",
				      (unsigned long long)st->awake_rounds);
			break;
		}
	}
	/* the signal arrived before the peer slept: not sampled */
	if (st->target != SIG_TO_SELF)
		report_int(ctx->report, "peer_awake_rounds", (int64_t)st->awake_rounds, "rounds");
	return rc;
}

static void stop_peer(struct sig_state *st)
{
	if (!st->sh)
		return;
	atomic_store(&st->sh->stop, 1);
	/* Errors below are bounded by the timed join/reap that follows. */
	if (st->thread_running) {
		pid_t tid = atomic_load(&st->sh->tid);
		if (tid > 0)
			tgkill(getpid(), tid, SIG_USED);
		struct timespec deadline;
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 1;
		if (pthread_timedjoin_np(st->peer_thread, NULL, &deadline)) {
			pthread_cancel(st->peer_thread);
			pthread_join(st->peer_thread, NULL);
		}
		st->thread_running = false;
	}
	if (st->peer_pid > 0) {
		kill(st->peer_pid, SIG_USED);
		peer_process_reap(st->peer_pid, PEER_REAP_TIMEOUT_MS);
		st->peer_pid = 0;
	}
}

static void signal_teardown(struct mech_ctx *ctx)
{
	struct sig_state *st = ctx->priv;

	stop_peer(st);
	if (st->handler_set && sigaction(SIG_USED, &st->old_act, NULL) == 0)
		st->handler_set = false;
	if (st->mask_set && pthread_sigmask(SIG_SETMASK, &st->old_mask, NULL) == 0)
		st->mask_set = false;
	if (st->sh && !st->handler_set) {
		sig_attach(NULL);
		peer_shared_free(st->sh, sizeof(*st->sh));
		st->sh = NULL;
	}
}

static const struct variant_desc signal_variants[] = {
	{ .name = "self", .help = "tgkill() to the measuring thread: the handler runs before tgkill() returns",
	  .setup = signal_setup_self },
	{ .name = "thread", .help = "tgkill() to a peer thread of this process sleeping in sigsuspend()",
	  .probe = signal_probe_peer, .setup = signal_setup_thread },
	{ .name = "process", .help = "kill() to a forked peer process sleeping in sigsuspend()",
	  .probe = signal_probe_peer, .setup = signal_setup_process },
	{ NULL, NULL },
};

/* Every variant's sample is one span, tsc_start() before the send to the handler's stamp. */
static const struct mechanism_ops signal_ops = {
	.name = "signal",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "signal delivery latency: send to the handler's first instruction (ULS, seed 001)",
	.variants = signal_variants,
	.opts = signal_opts,
	.cfg_size = sizeof(struct signal_cfg),
	.priv_size = sizeof(struct sig_state),
	.unit = SAMPLE_CYCLES,
	.measure = signal_measure,
	.teardown = signal_teardown,
};
MECHANISM_REGISTER(signal_ops)
