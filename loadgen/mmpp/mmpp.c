/*
 * mmpp: a CPU disturbance whose bursts follow a two-state Markov-modulated
 * Poisson process (mmpp_model.h), the service manager's disturbance in
 * seed 001 (paper: 10 s mean between bursts, 3 s mean bursts, at real-time
 * priority 96). One process on one CPU runs the schedule in real time:
 * each job busy-spins job_us of wall-clock time; a job that arrives while
 * another runs waits its turn (counted as late). stop() reports what
 * actually ran: bursts, their lengths, jobs, busy time, the load inside
 * bursts, and the first bursts' start and length.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "loadgen.h"
#include "mmpp_model.h"
#include "peer.h"

#define MMPP_CPU_PEER (-1)
#define MMPP_CPU_CASE (-2)
#define MMPP_KEPT_BURSTS 64
#define MMPP_SLICE_NS 20000000ull   /* sleeps are cut into slices to notice stop */

struct mmpp_cfg {
	int64_t quiet_ms, burst_ms, scale_pct, burst_rate_hz, quiet_rate_hz, job_us, seed, priority, cpu;
};

static const struct opt_desc mmpp_opts[] = {
	OPT_INT_FIELD(struct mmpp_cfg, quiet_ms, "10000", 1, 3600000, "ms", "mean time between bursts (paper 10 s)"),
	OPT_INT_FIELD(struct mmpp_cfg, burst_ms, "3000", 1, 3600000, "ms", "mean burst length (paper 3 s)"),
	OPT_INT_FIELD(struct mmpp_cfg, scale_pct, "100", 1, 1000, "%",
		      "both means are run at this percent (100: as given; the report states any other)"),
	OPT_INT_FIELD(struct mmpp_cfg, burst_rate_hz, "100", 0, 10000, "jobs/s", "job arrival rate inside bursts"),
	OPT_INT_FIELD(struct mmpp_cfg, quiet_rate_hz, "0", 0, 10000, "jobs/s", "job arrival rate between bursts"),
	OPT_INT_FIELD(struct mmpp_cfg, job_us, "3000", 1, 100000, "us", "CPU time each job spins"),
	OPT_INT_FIELD(struct mmpp_cfg, seed, "1", 0, INT64_MAX, "", "random seed: the same seed, the same schedule"),
	OPT_INT_FIELD(struct mmpp_cfg, priority, "96", 0, 98, "", "SCHED_FIFO priority (paper 96; 0 = SCHED_OTHER)"),
	OPT_INT_FIELD(struct mmpp_cfg, cpu, "-1", MMPP_CPU_CASE, 1023, "",
		      "CPU of the disturbance (-1 = the case's peer CPU, -2 = the case's measuring CPU)"),
	OPT_TABLE_END,
};

struct mmpp_burst {
	uint64_t start_ns, end_ns;   /* from the start of the run; end 0 while running */
	uint64_t jobs;
};

struct mmpp_shared {
	_Atomic int stop, started;
	struct mmpp_params params;
	uint64_t job_ns, tsc_khz;
	/* what ran, written by the disturbance process */
	_Atomic uint64_t bursts, jobs, busy_ns, burst_busy_ns, burst_ns, late_jobs, max_late_ns;
	_Atomic uint64_t burst_start_ns;   /* of the burst in progress (from the start of the run), 0 when quiet */
	uint64_t start_ns;                 /* CLOCK_MONOTONIC when the schedule began */
	struct mmpp_burst kept[MMPP_KEPT_BURSTS];
};

struct mmpp_state {
	struct mmpp_shared *sh;
	pid_t pid;
	struct timespec t0;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleep until `until` (CLOCK_MONOTONIC ns) unless told to stop. Returns false on stop. */
static bool sleep_until(struct mmpp_shared *sh, uint64_t until)
{
	for (;;) {
		if (atomic_load(&sh->stop))
			return false;
		uint64_t now = mono_ns();
		if (now >= until)
			return true;
		uint64_t wake = until - now > MMPP_SLICE_NS ? now + MMPP_SLICE_NS : until;
		struct timespec ts = { (time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);   /* EINTR: loop again */
	}
}

/* Busy-spin job_ns of wall-clock time; returns the time spun. */
static uint64_t run_job(struct mmpp_shared *sh)
{
	uint64_t t0 = mono_ns(), now = t0;

	while (now - t0 < sh->job_ns && !atomic_load_explicit(&sh->stop, memory_order_relaxed))
		now = mono_ns();
	return now - t0;
}

static int disturbance_main(void *arg)
{
	struct mmpp_shared *sh = arg;
	struct mmpp_gen g;
	bool in_burst = false;
	uint64_t start = mono_ns(), free_at = start, burst_start = start;

	mmpp_init(&g, &sh->params);
	sh->start_ns = start;
	atomic_store(&sh->started, 1);
	for (;;) {
		struct mmpp_event ev;
		mmpp_next(&g, &ev);
		uint64_t due = start + ev.t_us * 1000u;
		/* a job waits for the one before it; a state change never waits */
		if (!sleep_until(sh, ev.type == MMPP_JOB && free_at > due ? free_at : due))
			return 0;
		uint64_t now = mono_ns(), b = atomic_load(&sh->bursts);
		if (ev.type == MMPP_BURST_START) {
			in_burst = true;
			burst_start = now;
			atomic_store(&sh->burst_start_ns, now - start + 1);
			if (b < MMPP_KEPT_BURSTS)
				sh->kept[b] = (struct mmpp_burst){ .start_ns = now - start };
			atomic_store(&sh->bursts, b + 1);
		} else if (ev.type == MMPP_BURST_END) {
			in_burst = false;
			atomic_store(&sh->burst_start_ns, 0);
			if (b && b <= MMPP_KEPT_BURSTS)
				sh->kept[b - 1].end_ns = now - start;
			atomic_fetch_add(&sh->burst_ns, now - burst_start);
		} else {
			if (now > due + 1000000u) {
				atomic_fetch_add(&sh->late_jobs, 1);
				if (now - due > atomic_load(&sh->max_late_ns))
					atomic_store(&sh->max_late_ns, now - due);
			}
			uint64_t spun = run_job(sh);
			free_at = mono_ns();
			atomic_fetch_add(&sh->jobs, 1);
			atomic_fetch_add(&sh->busy_ns, spun);
			if (in_burst) {
				atomic_fetch_add(&sh->burst_busy_ns, spun);
				if (b && b <= MMPP_KEPT_BURSTS)
					sh->kept[b - 1].jobs++;
			}
		}
	}
}

static int mmpp_start(struct load_ctx *ctx)
{
	const struct mmpp_cfg *cfg = ctx->cfg;
	struct mmpp_state *st = ctx->priv;
	struct mmpp_shared *sh = peer_shared_alloc(sizeof(*sh));

	if (!sh)
		return load_why(ctx, BENCH_FAIL, "cannot map shared memory: %s", strerror(errno));
	st->sh = sh;
	sh->params = (struct mmpp_params){
		.quiet_mean_us = (uint64_t)cfg->quiet_ms * 10u * (uint64_t)cfg->scale_pct,
		.burst_mean_us = (uint64_t)cfg->burst_ms * 10u * (uint64_t)cfg->scale_pct,
		.quiet_rate_mhz = (uint64_t)cfg->quiet_rate_hz * 1000u, .burst_rate_mhz = (uint64_t)cfg->burst_rate_hz * 1000u,
		.seed = (uint64_t)cfg->seed,
	};
	sh->job_ns = (uint64_t)cfg->job_us * 1000u;
	int cpu = cfg->cpu == MMPP_CPU_CASE ? ctx->case_cpu : cfg->cpu == MMPP_CPU_PEER ? ctx->cpu : (int)cfg->cpu;
	struct mech_ctx pctx = { .peer_cpu = cpu, .priority = (int)cfg->priority, .mlock = true };
	int err = peer_process_start(&pctx, &st->pid, disturbance_main, sh);
	if (err)
		return load_why(ctx, BENCH_FAIL, "cannot start the disturbance on CPU %d: %s", cpu, strerror(err));
	for (int ms = 0; !atomic_load(&sh->started); ms++) {
		if (ms > PEER_READY_TIMEOUT_MS)
			return load_why(ctx, BENCH_FAIL, "the disturbance did not start within %d ms",
					PEER_READY_TIMEOUT_MS);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &st->t0);
	double load = (double)cfg->burst_rate_hz * (double)cfg->job_us / 1e6;
	double quiet_ms = (double)sh->params.quiet_mean_us / 1000.0, burst_ms = (double)sh->params.burst_mean_us / 1000.0;
	report_kv(ctx->report, "schedule", "quiet mean %.0f ms, burst mean %.0f ms (%s), jobs of %lld us at %lld/s in "
		  "bursts (%.0f%% of a CPU), %lld/s between, seed %lld", quiet_ms, burst_ms,
		  cfg->scale_pct == 100 ? "as configured" : "SCALED: quiet_ms and burst_ms x scale_pct/100",
		  (long long)cfg->job_us, (long long)cfg->burst_rate_hz, load * 100, (long long)cfg->quiet_rate_hz,
		  (long long)cfg->seed);
	report_int(ctx->report, "scale_pct", cfg->scale_pct, "%");
	report_real(ctx->report, "quiet_mean_s", quiet_ms / 1000.0, "s");
	report_real(ctx->report, "burst_mean_s", burst_ms / 1000.0, "s");
	/* the configured level: the long-run fraction of time in bursts, and of the CPU the jobs take */
	report_real(ctx->report, "burst_fraction_expected", burst_ms / (quiet_ms + burst_ms), "of the run");
	report_real(ctx->report, "busy_share_expected", (burst_ms * load + quiet_ms * (double)cfg->quiet_rate_hz *
		    (double)cfg->job_us / 1e6) / (quiet_ms + burst_ms), "CPUs");
	report_int(ctx->report, "cpu", cpu, "");
	report_int(ctx->report, "sched_fifo_priority", cfg->priority, "");
	return BENCH_OK;
}

static void report_bursts(struct load_ctx *ctx, const struct mmpp_shared *sh, uint64_t bursts)
{
	char list[REPORT_VAL_MAX];
	size_t used = 0;

	list[0] = '\0';
	for (uint64_t i = 0; i < bursts && i < MMPP_KEPT_BURSTS; i++) {
		const struct mmpp_burst *b = &sh->kept[i];
		char one[64];
		int n = snprintf(one, sizeof(one), "%s%.0f+%.0f", i ? " " : "", (double)b->start_ns / 1e6,
				 b->end_ns ? (double)(b->end_ns - b->start_ns) / 1e6 : -1.0);
		if (n < 0 || used + (size_t)n + 1 >= sizeof(list))
			break;
		memcpy(list + used, one, (size_t)n + 1);
		used += (size_t)n;
	}
	report_kv(ctx->report, "bursts_ms", "%s", used ? list : "(none)");
}

static int mmpp_stop(struct load_ctx *ctx)
{
	struct mmpp_state *st = ctx->priv;
	struct mmpp_shared *sh = st->sh;

	if (!sh)
		return BENCH_OK;
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall_s = (double)(t1.tv_sec - st->t0.tv_sec) + (double)(t1.tv_nsec - st->t0.tv_nsec) / 1e9;
	atomic_store(&sh->stop, 1);
	int rc = BENCH_OK;
	if (peer_process_reap(st->pid, PEER_REAP_TIMEOUT_MS) != 0)
		rc = load_why(ctx, BENCH_FAIL, "the disturbance did not exit cleanly");
	uint64_t bursts = atomic_load(&sh->bursts), burst_ns = atomic_load(&sh->burst_ns);
	uint64_t open_start = atomic_load(&sh->burst_start_ns), run_ns = mono_ns() - sh->start_ns;
	uint64_t in_bursts_ns = burst_ns + (open_start && run_ns + 1 > open_start ? run_ns + 1 - open_start : 0);
	double busy_s = (double)atomic_load(&sh->busy_ns) / 1e9;
	report_real(ctx->report, "wall_s", wall_s, "s");
	report_int(ctx->report, "bursts", (int64_t)bursts, "");
	report_real(ctx->report, "completed_bursts_s", (double)burst_ns / 1e9, "s");
	report_int(ctx->report, "jobs", (int64_t)atomic_load(&sh->jobs), "");
	report_real(ctx->report, "busy_s", busy_s, "s");
	report_real(ctx->report, "busy_share_of_run", wall_s > 0 ? busy_s / wall_s : 0.0, "CPUs");
	report_real(ctx->report, "burst_fraction_of_run", run_ns ? (double)in_bursts_ns / (double)run_ns : 0.0,
		    "of the run");
	report_real(ctx->report, "burst_fraction_planned", mmpp_burst_fraction(&sh->params, run_ns / 1000u),
		    "of the run");
	report_real(ctx->report, "busy_share_in_bursts",
		    burst_ns ? (double)atomic_load(&sh->burst_busy_ns) / (double)burst_ns : 0.0, "CPUs");
	report_int(ctx->report, "late_jobs", (int64_t)atomic_load(&sh->late_jobs), "");
	report_real(ctx->report, "max_late_ms", (double)atomic_load(&sh->max_late_ns) / 1e6, "ms");
	report_bursts(ctx, sh, bursts);
	peer_shared_free(sh, sizeof(*sh));
	st->sh = NULL;
	return rc;
}

static const struct loadgen_ops mmpp_ops = {
	.name = "mmpp",
	.abi_version = LOADGEN_ABI_VERSION,
	.help = "CPU bursts as a two-state Markov-modulated Poisson process, seeded (the ULS/SafeX disturbance)",
	.opts = mmpp_opts,
	.cfg_size = sizeof(struct mmpp_cfg),
	.priv_size = sizeof(struct mmpp_state),
	.start = mmpp_start,
	.stop = mmpp_stop,
};
LOADGEN_REGISTER(mmpp_ops)
