/*
 * timer, variant cyclictest: rt-tests' cyclictest run as a child with the
 * native loop's interval, priority and CPU; its stdout histogram is turned
 * back into samples.
 *
 * What cyclictest 2.40 prints with -q -h RANGE (checked by running it):
 *
 *   # /dev/cpu_dma_latency set to 0us
 *   # Histogram
 *   000000 000000                 latency bucket, count; every bucket, zeros too
 *   ...
 *   # Total: 000000980            samples inside the histogram
 *   # Min Latencies: 05144
 *   # Avg Latencies: 93810
 *   # Max Latencies: 5193096
 *   # Histogram Overflows: 00020  samples >= RANGE, not in Total
 *   # Histogram Overflow at cycle number:
 *   # Thread 0: 00116 00117 ...   (long; ignored)
 *
 * With -N the latencies, the buckets and the -h range itself are in ns
 * instead of us. cyclictest caps its histogram at 1000000 buckets, so 1 ns
 * buckets reach 1 ms at most. Without -N each latency is cut to whole us.
 *
 * The histogram loses time order and cyclictest discards no warm-up; an
 * overflowed sample is known only to lie in [RANGE, max], so it is recorded
 * at cyclictest's max: the tail is never reported better than it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "mechanism.h"
#include "peer.h"
#include "timer.h"

#define CT_HIST_MAX_BUCKETS 1000000ull  /* cyclictest's own cap */
#define CT_SLACK_NS (30 * NSEC_PER_SEC) /* start-up and printing the histogram */
#define CT_MARGIN_NS (5 * NSEC_PER_SEC)  /* left of the case's timeout for reaping and reporting */

struct ct_parse {
	uint64_t bucket_ns, loops, hist_sum, ignored_lines;
	int64_t total, min, avg, max, overflows;  /* -1 until printed */
	size_t len;
	bool too_long;
	char line[512];
};

int ct_probe(struct mech_ctx *ctx)
{
	if (!CYCLICTEST_PATH[0])
		return mech_why(ctx, BENCH_SKIP, "cyclictest (rt-tests) was not found when gapbench was configured");
	if (access(CYCLICTEST_PATH, X_OK))
		return mech_why_errno(ctx, BENCH_SKIP, "%s", CYCLICTEST_PATH);
	return BENCH_OK;
}

int ct_setup(struct mech_ctx *ctx)
{
	const struct timer_cfg *cfg = ctx->cfg;
	struct ct_run *ct = ctx->priv;

	ct->started = true;
	ct->out_fd = ct->err_fd = -1;

	if (cfg->ct_nsecs && (uint64_t)cfg->ct_hist_us * NSEC_PER_USEC > CT_HIST_MAX_BUCKETS)
		return mech_why(ctx, BENCH_FAIL,
				"ct_hist_us = %lld with ct_nsecs: cyclictest keeps at most %llu buckets, "
				"i.e. 1000 us of 1 ns buckets; lower ct_hist_us or set ct_nsecs = false",
				(long long)cfg->ct_hist_us, CT_HIST_MAX_BUCKETS);
	report_kv(ctx->report, "resolution", "%s", cfg->ct_nsecs ? "1 ns (cyclictest -N)" :
		  "1 us (cyclictest truncates each latency to whole us)");
	report_kv(ctx->report, "warmup", "none: cyclictest's histogram keeps every loop");
	report_kv(ctx->report, "sample_order", "ascending, rebuilt from the histogram (time order is lost)");
	report_kv(ctx->report, "missed_periods", "not counted: cyclictest skips late periods silently");
	return BENCH_OK;
}

static void add_arg(struct ct_run *ct, const char *fmt, ...) BENCH_PRINTF(2, 3);
static void add_arg(struct ct_run *ct, const char *fmt, ...)
{
	va_list ap;

	if (ct->argc >= CT_MAX_ARGS)
		return;
	va_start(ap, fmt);
	vsnprintf(ct->args[ct->argc], sizeof(ct->args[0]), fmt, ap);
	va_end(ap);
	ct->argv[ct->argc] = ct->args[ct->argc];
	ct->argv[++ct->argc] = NULL;
}

static void build_argv(struct mech_ctx *ctx, struct ct_run *ct, uint64_t loops)
{
	const struct timer_cfg *cfg = ctx->cfg;
	char cmd[REPORT_VAL_MAX];
	size_t used = 0;

	ct->argc = 0;
	add_arg(ct, "%s", CYCLICTEST_PATH);
	add_arg(ct, "-t1");
	if (ctx->cpu >= 0)
		add_arg(ct, "-a%d", ctx->cpu);
	if (ctx->priority > 0)
		add_arg(ct, "-p%d", ctx->priority);
	add_arg(ct, "-i%lld", (long long)cfg->interval_us);
	add_arg(ct, "-l%llu", (unsigned long long)loops);
	add_arg(ct, "-m");
	add_arg(ct, "-q");
	add_arg(ct, "-h%llu", (unsigned long long)cfg->ct_hist_us * (cfg->ct_nsecs ? NSEC_PER_USEC : 1));
	if (cfg->ct_nsecs)
		add_arg(ct, "-N");
	/* Keep cyclictest's bookkeeping thread off the measured CPU when we can. */
	if (ctx->peer_cpu >= 0 && ctx->peer_cpu != ctx->cpu)
		add_arg(ct, "--mainaffinity=%d", ctx->peer_cpu);

	cmd[0] = '\0';
	for (int i = 0; i < ct->argc && used < sizeof(cmd); i++)
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, "%s%s", i ? " " : "", ct->argv[i]);
	report_kv(ctx->report, "cyclictest_cmd", "%s", cmd);
}

static void child_fail(const char *msg)
{
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0)
		_exit(126);
	_exit(126);
}

/* In the forked child: plain scheduling, all CPUs, default signals, then exec. */
static void ct_child(const struct ct_run *ct, int out_fd, int err_fd)
{
	struct sched_param sp = { .sched_priority = 0 };
	cpu_set_t all;
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL))
		_exit(126);
	if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
		_exit(126);
	/*
	 * cyclictest sets its measuring thread's CPU and priority itself; its
	 * main thread must not inherit ours, and it must be free to pin.
	 */
	if (sched_setscheduler(0, SCHED_OTHER, &sp))
		child_fail("gapbench: cannot drop to SCHED_OTHER before exec\n");
	CPU_ZERO(&all);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		CPU_SET(cpu, &all);
	if (sched_setaffinity(0, sizeof(all), &all))
		child_fail("gapbench: cannot widen the CPU affinity before exec\n");
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);   /* fails harmlessly for KILL, STOP, libc's own */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL))
		_exit(126);
	close_range(3, ~0U, 0);     /* keep the harness's descriptors out of it */
	execv(CYCLICTEST_PATH, ct->argv);
	child_fail("gapbench: execv cyclictest failed\n");
}

static int ct_spawn(struct mech_ctx *ctx, struct ct_run *ct)
{
	int out[2], err[2];

	if (pipe2(out, O_CLOEXEC))
		return mech_why_errno(ctx, BENCH_FAIL, "pipe2");
	if (pipe2(err, O_CLOEXEC)) {
		close(out[0]);
		close(out[1]);
		return mech_why_errno(ctx, BENCH_FAIL, "pipe2");
	}
	pid_t pid = fork();
	if (pid == 0)
		ct_child(ct, out[1], err[1]);
	close(out[1]);
	close(err[1]);
	ct->out_fd = out[0];
	ct->err_fd = err[0];
	if (pid < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "fork");
	ct->pid = pid;
	return BENCH_OK;
}

static bool summary_value(const char *line, const char *prefix, int64_t *out)
{
	size_t n = strlen(prefix);

	if (strncmp(line, prefix, n))
		return false;
	*out = strtoll(line + n, NULL, 10);
	return true;
}

static void summary_line(struct ct_parse *p, const char *line)
{
	if (!summary_value(line, "# Total:", &p->total) &&
	    !summary_value(line, "# Min Latencies:", &p->min) &&
	    !summary_value(line, "# Avg Latencies:", &p->avg) &&
	    !summary_value(line, "# Max Latencies:", &p->max) &&
	    !summary_value(line, "# Histogram Overflows:", &p->overflows))
		p->ignored_lines++;
}

static int hist_line(struct mech_ctx *ctx, struct ct_parse *p, struct samples *s)
{
	char *end, *cend;

	errno = 0;
	uint64_t bucket = strtoull(p->line, &end, 10);
	uint64_t count = strtoull(end, &cend, 10);
	if (errno || end == p->line || cend == end || *cend != '\0')
		return mech_why(ctx, BENCH_FAIL, "unexpected cyclictest line \"%.60s\"", p->line);
	if (count > p->loops - p->hist_sum)
		return mech_why(ctx, BENCH_FAIL, "cyclictest's histogram holds more than the %llu loops requested",
				(unsigned long long)p->loops);
	p->hist_sum += count;
	for (; count; count--)
		samples_add(s, bucket * p->bucket_ns);
	return BENCH_OK;
}

static int parse_line(struct mech_ctx *ctx, struct ct_parse *p, struct samples *s)
{
	if (p->line[0] == '#') {
		if (!p->too_long)
			summary_line(p, p->line);
		return BENCH_OK;
	}
	if (p->too_long)
		return mech_why(ctx, BENCH_FAIL, "overlong cyclictest line \"%.60s...\"", p->line);
	if (p->line[0] >= '0' && p->line[0] <= '9')
		return hist_line(ctx, p, s);
	p->ignored_lines++;
	return BENCH_OK;
}

static int parse_chunk(struct mech_ctx *ctx, struct ct_parse *p, struct samples *s,
		       const char *buf, size_t n)
{
	while (n) {
		const char *nl = memchr(buf, '\n', n);
		size_t take = nl ? (size_t)(nl - buf) : n;
		size_t room = sizeof(p->line) - 1 - p->len;

		if (take > room)
			p->too_long = true;
		memcpy(p->line + p->len, buf, take < room ? take : room);
		p->len += take < room ? take : room;
		if (!nl)
			return BENCH_OK;
		p->line[p->len] = '\0';
		int rc = parse_line(ctx, p, s);
		p->len = 0;
		p->too_long = false;
		if (rc)
			return rc;
		buf += take + 1;
		n -= take + 1;
	}
	return BENCH_OK;
}

static void keep_err_tail(struct ct_run *ct, const char *buf, size_t n)
{
	size_t cap = sizeof(ct->err_tail) - 1;
	size_t have = strlen(ct->err_tail);

	if (n >= cap) {
		memcpy(ct->err_tail, buf + n - cap, cap);
		ct->err_tail[cap] = '\0';
		return;
	}
	if (have + n > cap) {
		memmove(ct->err_tail, ct->err_tail + have + n - cap, cap - n);
		have = cap - n;
	}
	memcpy(ct->err_tail + have, buf, n);
	ct->err_tail[have + n] = '\0';
	for (char *c = ct->err_tail; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

/* Read one ready descriptor; closes it at end of file. */
static int drain(struct mech_ctx *ctx, struct ct_run *ct, int *fd, struct ct_parse *p, struct samples *s)
{
	char buf[16384];
	ssize_t n = read(*fd, buf, sizeof(buf));

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? BENCH_OK :
		       mech_why_errno(ctx, BENCH_FAIL, "reading cyclictest's output");
	if (n == 0) {
		close(*fd);
		*fd = -1;
		return BENCH_OK;
	}
	if (fd == &ct->err_fd) {
		keep_err_tail(ct, buf, (size_t)n);
		return BENCH_OK;
	}
	return parse_chunk(ctx, p, s, buf, (size_t)n);
}

static int collect(struct mech_ctx *ctx, struct ct_run *ct, struct ct_parse *p, struct samples *s,
		   uint64_t bound_ns)
{
	uint64_t deadline_ns = timer_mono_ns() + bound_ns;

	while (ct->out_fd >= 0 || ct->err_fd >= 0) {
		uint64_t now_ns = timer_mono_ns();
		if (now_ns >= deadline_ns)
			return mech_why(ctx, BENCH_FAIL, "cyclictest did not finish within %.1f s (its loops alone take "
					"%.1f s): the machine could not keep the periods, or raise timeout_s",
					bound_ns / 1e9, (double)timer_run_ns(ctx->cfg, p->loops) / 1e9);
		struct pollfd pfd[2] = {
			{ .fd = ct->out_fd, .events = POLLIN },   /* poll skips a -1 fd */
			{ .fd = ct->err_fd, .events = POLLIN },
		};
		int n = poll(pfd, 2, (int)((deadline_ns - now_ns) / 1000000 + 1));
		if (n < 0 && errno != EINTR)
			return mech_why_errno(ctx, BENCH_FAIL, "poll");
		for (int i = 0; n > 0 && i < 2; i++) {
			int rc = pfd[i].revents ? drain(ctx, ct, i ? &ct->err_fd : &ct->out_fd, p, s) : BENCH_OK;
			if (rc)
				return rc;
		}
	}
	return BENCH_OK;
}

static void report_summary(struct mech_ctx *ctx, const struct ct_parse *p)
{
	report_int(ctx->report, "cyclictest_min_ns", p->min * (int64_t)p->bucket_ns, "ns");
	report_int(ctx->report, "cyclictest_avg_ns", p->avg * (int64_t)p->bucket_ns, "ns");
	report_int(ctx->report, "cyclictest_max_ns", p->max * (int64_t)p->bucket_ns, "ns");
	report_int(ctx->report, "cyclictest_in_histogram", p->total, "loops");
	/* overflowed loops are recorded at cyclictest's max: an upper bound */
	report_int(ctx->report, "cyclictest_overflows", p->overflows, "loops");
}

/* Every count cyclictest printed must agree with what was asked and read. */
static int check_counts(struct mech_ctx *ctx, const struct ct_run *ct, const struct ct_parse *p)
{
	if (p->total < 0 || p->overflows < 0 || p->min < 0 || p->max < 0 || p->avg < 0)
		return mech_why(ctx, BENCH_FAIL, "cyclictest printed no complete summary: %s", ct->err_tail);
	if ((uint64_t)p->total != p->hist_sum)
		return mech_why(ctx, BENCH_FAIL, "cyclictest's Total %lld disagrees with its histogram's %llu",
				(long long)p->total, (unsigned long long)p->hist_sum);
	if ((uint64_t)(p->total + p->overflows) != p->loops)
		return mech_why(ctx, BENCH_FAIL, "cyclictest counted %lld + %lld overflows, %llu loops were requested",
				(long long)p->total, (long long)p->overflows, (unsigned long long)p->loops);
	return BENCH_OK;
}

int ct_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct timer_cfg *cfg = ctx->cfg;
	struct ct_run *ct = ctx->priv;
	uint64_t loops = timer_case_loops(ctx, cfg, s);   /* duration_s: what fits before the deadline */
	struct ct_parse p = {
		.bucket_ns = cfg->ct_nsecs ? 1 : NSEC_PER_USEC,
		.loops = loops,
		.total = -1, .min = -1, .avg = -1, .max = -1, .overflows = -1,
	};
	/*
	 * cyclictest's loops take at least loops x interval; a machine that
	 * cannot keep the periods (an emulated guest under a load) takes
	 * longer, and that is a slow run, not a failure: wait for as much of
	 * the case's timeout as is left after a margin (the harness kills the
	 * case at the timeout itself), or run + slack without one. The row
	 * says how long it took against the loops' own time.
	 */
	uint64_t run_ns = timer_run_ns(cfg, loops);
	uint64_t bound_ns = run_ns + CT_SLACK_NS;
	if (ctx->timeout_ns) {
		uint64_t margin_ns = ctx->timeout_ns / 10 < CT_MARGIN_NS ? ctx->timeout_ns / 10 : CT_MARGIN_NS;
		bound_ns = ctx->timeout_ns - margin_ns;
	}
	uint64_t t0_ns = timer_mono_ns();
	s->warmup_target = 0;   /* the histogram cannot tell warm-up apart */
	ct->err_tail[0] = '\0';
	build_argv(ctx, ct, loops);
	int rc = ct_spawn(ctx, ct);
	if (!rc)
		rc = collect(ctx, ct, &p, s, bound_ns);
	if (rc)
		return rc;

	double wall_s = (double)(timer_mono_ns() - t0_ns) / 1e9;
	report_real(ctx->report, "cyclictest_wall_s", wall_s, "s");
	report_real(ctx->report, "cyclictest_loops_time_s", (double)run_ns / 1e9, "s");
	int status = peer_process_reap(ct->pid, 5000);
	ct->pid = 0;
	if (status != 0)
		return mech_why(ctx, BENCH_FAIL, "cyclictest exited with status %d: %s", status, ct->err_tail);
	rc = check_counts(ctx, ct, &p);
	if (rc)
		return rc;
	report_summary(ctx, &p);
	for (int64_t i = 0; i < p.overflows; i++)
		samples_add(s, (uint64_t)p.max * p.bucket_ns);
	if (s->count != loops)
		return mech_why(ctx, BENCH_FAIL, "rebuilt %llu samples from cyclictest, expected %llu",
				(unsigned long long)s->count, (unsigned long long)loops);
	return BENCH_OK;
}

void ct_teardown(struct mech_ctx *ctx)
{
	struct ct_run *ct = ctx->priv;

	if (!ct->started)
		return;
	if (ct->pid > 0) {
		peer_process_reap(ct->pid, 0);   /* kills it first */
		ct->pid = 0;
	}
	if (ct->out_fd >= 0)
		close(ct->out_fd);
	if (ct->err_fd >= 0)
		close(ct->err_fd);
	ct->out_fd = ct->err_fd = -1;
}
