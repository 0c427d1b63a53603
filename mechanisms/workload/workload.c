/*
 * workload: throughput checks timed as a whole, one run per sample.
 *
 *   compile   Karma's Figure 2 (seed 004: a Linux kernel compile, 619.9 s
 *             native, 640.3 s in the VM) natively: each sample is the wall
 *             time in ns of one clean build (`make -j jobs CC=gcc`, obj/
 *             emptied before, outside the timed span) of a generated C
 *             project (loadgen/compile/project.h, the same generator as the
 *             `compile` load). The build runs on the case's CPU (the paper
 *             limited both setups to one CPU) as SCHED_OTHER processes,
 *             whatever the case's priority. A sample is seconds long: the
 *             probe pair's overhead is irrelevant and not subtracted.
 *
 * The project lives in a scratch folder removed on every exit path.
 * project.c is compiled into the load generators' library (loadgen/compile)
 * only: the harness links both libraries whole, one copy of it serves both.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "../../loadgen/compile/project.h"
#include "../../loadgen/compile/project_dirs.h"
#include "mechanism.h"
#include "scratch.h"

struct workload_cfg {
	int64_t units;
	int64_t jobs;
};

static const struct opt_desc compile_opts[] = {
	OPT_INT_FIELD(struct workload_cfg, units, "8", 1, PROJECT_UNITS_MAX, "files",
		      "translation units of the generated project (16 functions, ~9 KiB each)"),
	OPT_INT_FIELD(struct workload_cfg, jobs, "1", 1, PROJECT_JOBS_MAX, "",
		      "make -j (the build runs on the case's one CPU, as the paper's did)"),
	OPT_TABLE_END,
};

/* ctx->priv */
struct workload_state {
	struct project_dirs dirs;
};

#define WORKLOAD_SEED 1

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compile_probe(struct mech_ctx *ctx)
{
	char path[512];
	if (!scratch_find_program("gcc", path, sizeof(path)))
		return mech_why(ctx, BENCH_SKIP, "gcc is not in PATH (Debian: gcc)");
	if (!scratch_find_program("make", path, sizeof(path)))
		return mech_why(ctx, BENCH_SKIP, "make is not in PATH (Debian: make)");
	return BENCH_OK;
}

static int compile_setup(struct mech_ctx *ctx)
{
	const struct workload_cfg *cfg = ctx->cfg;
	struct workload_state *st = ctx->priv;
	const char *bad = project_check(cfg->units, cfg->jobs);
	if (bad)
		return mech_why(ctx, BENCH_FAIL, "%s", bad);
	char why[256];
	uint64_t bytes = 0;
	if (project_dirs_init(&st->dirs, "workload", cfg->jobs, why, sizeof(why)) != 0 ||
	    project_dirs_write(&st->dirs, WORKLOAD_SEED, (int)cfg->units, &bytes, why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_FAIL, "%s", why);
	report_int(ctx->report, "units", cfg->units, "files");
	report_int(ctx->report, "jobs", cfg->jobs, "");
	report_real(ctx->report, "source_kib", (double)bytes / 1024.0, "KiB");
	report_kv(ctx->report, "build", "make -s -j %lld CC=gcc, CFLAGS -O2 -g -Wall -Wextra, from clean",
		  (long long)cfg->jobs);
	return BENCH_OK;
}

static int compile_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct workload_state *st = ctx->priv;
	char *argv[] = { "make", "-s", "-j", st->dirs.jobs_arg, "CC=gcc", NULL };
	struct spawn_opts o = { .cwd = st->dirs.proj, .cpu = -1, .log_path = st->dirs.log, .keep_fd = st->dirs.sc.keep_fd };
	uint64_t builds = 0;
	while (!samples_full(s)) {
		if (scratch_rm_tree(st->dirs.obj) != 0 || mkdir(st->dirs.obj, 0755) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "cannot empty %s", st->dirs.obj);
		char why[256];
		uint64_t t0 = mono_ns();
		pid_t pid = scratch_spawn(argv, &o, why, sizeof(why));
		if (pid < 0)
			return mech_why(ctx, BENCH_FAIL, "%s", why);
		int status = 0;
		if (scratch_wait(pid, NULL, &status) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "waitpid for make");
		uint64_t t1 = mono_ns();
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			scratch_describe_exit(status, st->dirs.log, why, sizeof(why));
			return mech_why(ctx, BENCH_FAIL, "make: %s", why);
		}
		samples_add(s, t1 - t0);
		builds++;
	}
	report_int(ctx->report, "builds", (int64_t)builds, "builds");
	return BENCH_OK;
}

static void compile_teardown(struct mech_ctx *ctx)
{
	struct workload_state *st = ctx->priv;
	scratch_remove(&st->dirs.sc);
}

static const struct variant_desc workload_variants[] = {
	{ .name = "compile",
	  .help = "wall time of one clean make -j N of a generated C project (Karma Figure 2, natively)",
	  .opts = compile_opts, .probe = compile_probe, .setup = compile_setup, .measure = compile_measure,
	  .teardown = compile_teardown },
	{ NULL, NULL },
};

static const struct mechanism_ops workload_ops = {
	.name = "workload",
	.abi_version = MECHANISM_ABI_VERSION,
	.help = "throughput of a real workload, one whole run per sample (Karma's compile check, seed 004)",
	.variants = workload_variants,
	.cfg_size = sizeof(struct workload_cfg),
	.priv_size = sizeof(struct workload_state),
	.unit = SAMPLE_NS,
	.warmup_samples = 1,   /* one sample is a whole build: one warm-up build, not the harness's 1000 */
};
MECHANISM_REGISTER(workload_ops)
