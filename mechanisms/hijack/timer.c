/*
 * Experiment 5: timer events delivered to the executive, the paper's "timer
 * interrupts synthesized with signals". A POSIX timer on CLOCK_MONOTONIC
 * sends SIGRTMIN to the guest thread, where the executive's handler runs
 * (the in-guest executive of sud / seccomp-trap). Each sample arms one
 * absolute expiry `period_us` ahead and measures from that expiry to the
 * handler's first clock read: CLOCK_MONOTONIC ns, recorded as ns.
 *
 * timer_wait: the guest spins while it waits (the signal interrupts a
 * running guest) or sleeps in sigsuspend (the signal wakes it).
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "exec_nanosleep.h"
#include "hijack.h"

#define TIMER_SIG SIGRTMIN

/*
 * The one file-scope pointer: the handler finds the experiment's state
 * (ctx->priv) here. Set in setup, cleared in teardown.
 */
static struct hj_timer_state *volatile g_timer;

static void executive_timer_handler(int sig)
{
	struct hj_timer_state *tm = g_timer;

	(void)sig;
	if (tm)
		atomic_store_explicit(&tm->handler_ns, hj_now_ns(), memory_order_release);
}

int hj_timer_setup(struct mech_ctx *ctx)
{
	const struct hijack_cfg *cfg = ctx->cfg;
	struct hj_timer_state *tm = &hj_priv(ctx)->timer;
	struct sigaction act;

	tm->wait = cfg->timer_wait;
	tm->period_ns = cfg->period_us * 1000;
	g_timer = tm;
	memset(&act, 0, sizeof(act));
	act.sa_handler = executive_timer_handler;
	sigemptyset(&act.sa_mask);
	if (sigaction(TIMER_SIG, &act, &tm->old_act) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "sigaction(SIGRTMIN)");
	tm->handler_set = true;

	/* sleep: blocked except inside sigsuspend, so it never lands between the check and the wait */
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, TIMER_SIG);
	int err = pthread_sigmask(tm->wait == HJ_TIMER_SLEEP ? SIG_BLOCK : SIG_UNBLOCK, &block, &tm->old_mask);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "pthread_sigmask: %s", strerror(err));
	tm->mask_set = true;
	sigfillset(&tm->wait_mask);
	sigdelset(&tm->wait_mask, TIMER_SIG);

	struct sigevent sev;
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = TIMER_SIG;
	sev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &sev, &tm->timer) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "timer_create");
	tm->timer_made = true;
	report_kv(ctx->report, "timer", "CLOCK_MONOTONIC, one-shot period_us ahead, SIGRTMIN to the guest thread; "
		  "the guest %s", tm->wait == HJ_TIMER_SLEEP ? "sleeps in sigsuspend" : "spins");
	report_int(ctx->report, "period_us", cfg->period_us, "us");
	return BENCH_OK;
}

int hj_timer_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct hj_timer_state *tm = &hj_priv(ctx)->timer;
	const uint64_t bound_ns = ctx->timeout_ns ? ctx->timeout_ns : 10000000000ull;

	while (!samples_full(s)) {
		int64_t expiry_ns = hj_now_ns() + tm->period_ns;
		struct itimerspec its = { .it_value = { .tv_sec = expiry_ns / 1000000000,
							 .tv_nsec = expiry_ns % 1000000000 } };
		atomic_store_explicit(&tm->handler_ns, 0, memory_order_relaxed);
		if (timer_settime(tm->timer, TIMER_ABSTIME, &its, NULL) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "timer_settime");
		int64_t handled_ns;
		while ((handled_ns = atomic_load_explicit(&tm->handler_ns, memory_order_acquire)) == 0) {
			if (tm->wait == HJ_TIMER_SLEEP)
				sigsuspend(&tm->wait_mask);   /* returns -1/EINTR after the handler: expected */
			else
				__builtin_ia32_pause();
			if (BENCH_UNLIKELY(hj_now_ns() - expiry_ns > (int64_t)bound_ns))
				return mech_why(ctx, BENCH_FAIL, "the timer signal did not arrive");
		}
		int64_t late_ns = handled_ns - expiry_ns;
		samples_add(s, late_ns > 0 ? (uint64_t)late_ns : 0);
	}
	return BENCH_OK;
}

void hj_timer_teardown(struct mech_ctx *ctx)
{
	struct hj_timer_state *tm = &hj_priv(ctx)->timer;

	if (tm->timer_made && timer_delete(tm->timer) == 0)
		tm->timer_made = false;
	if (tm->mask_set && pthread_sigmask(SIG_SETMASK, &tm->old_mask, NULL) == 0)
		tm->mask_set = false;
	if (tm->handler_set && sigaction(TIMER_SIG, &tm->old_act, NULL) == 0)
		tm->handler_set = false;
	if (!tm->handler_set)
		g_timer = NULL;
}
