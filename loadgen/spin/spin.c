/*
 * spin: a CPU-bound co-runner. Each spinner is a process pinned to a CPU that
 * increments a counter as fast as it can until stopped; stop() reports the
 * iterations per second and the CPU share the spinners actually got, both
 * over the span from the end of start() to stop().
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "peer.h"
#include "rtenv.h"

#define SPIN_MAX 16
#define SPIN_CPU_PEER (-1)
#define SPIN_CPU_CASE (-2)

struct spin_cfg {
	int64_t spinners;
	int64_t cpu;
	int64_t nice;
};

static const struct opt_desc spin_opts[] = {
	OPT_INT_FIELD(struct spin_cfg, spinners, "1", 1, SPIN_MAX, "processes", "number of spinning processes"),
	OPT_INT_FIELD(struct spin_cfg, cpu, "-1", SPIN_CPU_CASE, 1023, "",
		      "CPU to pin the spinners to (-1 = the case's peer CPU, -2 = the case's measuring CPU)"),
	OPT_INT_FIELD(struct spin_cfg, nice, "0", -20, 19, "", "nice value of the spinners (SCHED_OTHER)"),
	OPT_TABLE_END,
};

/*
 * The spinners count only between `go` and `stop`, and the case process
 * reads the clock before it sets go and after it sets stop: the count and
 * the reported wall time cover the same span (but for the few iterations a
 * spinner runs before it sees the stop store, tens of nanoseconds' worth).
 */
struct spin_shared {
	_Atomic int go;
	_Atomic int stop;
	_Atomic int started;
	_Alignas(64) _Atomic uint64_t iterations[SPIN_MAX];
};

struct spin_state {
	struct spin_shared *sh;
	pid_t pids[SPIN_MAX];
	int n;
	struct timespec t0;
	double cpu0_s;   /* the spinners' CPU time at t0; -1 when unreadable */
};

static int spinner(void *arg)
{
	struct spin_shared *sh = arg;
	int idx = atomic_fetch_add(&sh->started, 1);
	/* the same busy loop, uncounted, until the case process has its t0 */
	while (!atomic_load_explicit(&sh->go, memory_order_acquire) &&
	       !atomic_load_explicit(&sh->stop, memory_order_relaxed))
		;
	uint64_t n = 0;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		n++;
		if ((n & 0xffff) == 0)
			atomic_store_explicit(&sh->iterations[idx], n, memory_order_relaxed);
	}
	atomic_store(&sh->iterations[idx], n);
	return 0;
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static double spinners_cpu_s(const struct spin_state *st);

static int spin_start(struct load_ctx *ctx)
{
	const struct spin_cfg *cfg = ctx->cfg;
	struct spin_state *st = ctx->priv;
	st->sh = peer_shared_alloc(sizeof(*st->sh));
	if (!st->sh)
		return load_why(ctx, BENCH_FAIL, "cannot map shared memory: %s", strerror(errno));
	/* Spinners are plain SCHED_OTHER load: never real-time, whatever the case uses. */
	int cpu = cfg->cpu == SPIN_CPU_CASE ? ctx->case_cpu : cfg->cpu == SPIN_CPU_PEER ? ctx->cpu : (int)cfg->cpu;
	struct mech_ctx peer = { .peer_cpu = cpu, .priority = 0 };
	for (int i = 0; i < cfg->spinners; i++) {
		int err = peer_process_start(&peer, &st->pids[i], spinner, st->sh);
		if (err)
			return load_why(ctx, BENCH_FAIL, "cannot start a spinner on CPU %d: %s", cpu, strerror(err));
		st->n++;
		setpriority(PRIO_PROCESS, (id_t)st->pids[i], (int)cfg->nice);
	}
	/* steady once every spinner runs its loop */
	for (int tries = 0; atomic_load(&st->sh->started) < st->n; tries++) {
		if (tries > PEER_READY_TIMEOUT_MS)
			return load_why(ctx, BENCH_FAIL, "spinners did not start within %d ms", PEER_READY_TIMEOUT_MS);
		usleep(1000);
	}
	clock_gettime(CLOCK_MONOTONIC, &st->t0);
	st->cpu0_s = spinners_cpu_s(st);
	atomic_store_explicit(&st->sh->go, 1, memory_order_release);
	report_int(ctx->report, "cpu", peer.peer_cpu, "");
	return BENCH_OK;
}

/* CPU seconds a process has used (utime + stime of /proc/PID/stat); -1 when unreadable. */
static double process_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');   /* the command name may hold spaces */
	unsigned long utime, stime;
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* The spinners' CPU seconds together; -1 when /proc cannot say. */
static double spinners_cpu_s(const struct spin_state *st)
{
	double cpu_s = 0;
	for (int i = 0; i < st->n; i++) {
		double c = process_cpu_s(st->pids[i]);
		cpu_s = c < 0 || cpu_s < 0 ? -1 : cpu_s + c;
	}
	return cpu_s;
}

static int spin_stop(struct load_ctx *ctx)
{
	struct spin_state *st = ctx->priv;
	if (!st->sh)
		return BENCH_OK;
	/* the spinners' own CPU time, read before they exit: not other children's */
	double cpu1_s = spinners_cpu_s(st);
	double cpu_s = cpu1_s < 0 || st->cpu0_s < 0 ? -1 : cpu1_s - st->cpu0_s;
	atomic_store(&st->sh->stop, 1);
	double wall_s = elapsed_s(&st->t0);   /* after stop: covers every counted iteration */
	int rc = BENCH_OK;
	for (int i = 0; i < st->n; i++)
		if (peer_process_reap(st->pids[i], PEER_REAP_TIMEOUT_MS) != 0)
			rc = load_why(ctx, BENCH_FAIL, "spinner %d did not exit cleanly", i);
	uint64_t total = 0;
	for (int i = 0; i < st->n; i++)
		total += atomic_load(&st->sh->iterations[i]);
	report_int(ctx->report, "spinners", st->n, "processes");
	report_real(ctx->report, "wall_s", wall_s, "s");
	report_int(ctx->report, "iterations", (int64_t)total, "");
	report_real(ctx->report, "iterations_per_s", wall_s > 0 ? (double)total / wall_s : 0.0, "iterations/s");
	/* left out, with the reason as text under another key, when /proc cannot say */
	if (cpu_s >= 0)
		report_real(ctx->report, "cpu_share_of_one_cpu", wall_s > 0 ? cpu_s / wall_s : 0.0, "CPUs");
	else
		report_kv(ctx->report, "cpu_share_unavailable", "/proc/PID/stat unreadable");
	peer_shared_free(st->sh, sizeof(*st->sh));
	st->sh = NULL;
	st->n = 0;
	return rc;
}

static const struct loadgen_ops spin_ops = {
	.name = "spin",
	.abi_version = LOADGEN_ABI_VERSION,
	.help = "CPU-bound spinning processes on one CPU (a co-runner competing for the CPU)",
	.opts = spin_opts,
	.cfg_size = sizeof(struct spin_cfg),
	.priv_size = sizeof(struct spin_state),
	.start = spin_start,
	.stop = spin_stop,
};
LOADGEN_REGISTER(spin_ops)
