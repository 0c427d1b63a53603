/*
 * compile: builds a generated C project (project.h, deterministic from a
 * seed) with `make -j jobs CC=gcc` over and over, each build from clean
 * (obj/ emptied between builds), in a load process of its own on the load's
 * CPU (roundloop.h); gcc and make run as ordinary SCHED_OTHER processes
 * pinned there. The project lives in a scratch folder removed on every exit
 * path (scratch.h).
 *
 * stop() reports builds completed, builds and translation units per second
 * (the build cut short counted by the objects it had written) over the wall
 * time from the first build's start, and seconds per completed build.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "loadgen.h"
#include "project.h"
#include "project_dirs.h"
#include "roundloop.h"
#include "scratch.h"

#define COMPILE_READY_TIMEOUT_MS 120000u

enum compile_cpu_mode { COMPILE_CPU_PEER, COMPILE_CPU_CASE };
static const char *const compile_cpu_modes[] = { "peer", "case", NULL };

struct compile_cfg {
	int64_t units;
	int64_t jobs;
	int64_t seed;
	int cpu_mode;
};

static const struct opt_desc compile_opts[] = {
	OPT_INT_FIELD(struct compile_cfg, units, "8", 1, PROJECT_UNITS_MAX, "files",
		      "translation units of the generated project (16 functions, ~9 KiB each)"),
	OPT_INT_FIELD(struct compile_cfg, jobs, "2", 1, PROJECT_JOBS_MAX, "", "make -j: compilers run at once"),
	OPT_INT_FIELD(struct compile_cfg, seed, "1", 0, INT64_MAX, "", "seed of the generated sources"),
	OPT_ENUM_FIELD(struct compile_cfg, cpu_mode, "peer", compile_cpu_modes,
		       "where the builds run: the case's peer CPU, or the measuring CPU itself"),
	OPT_TABLE_END,
};

/* ctx->priv, from start() to stop(); the load process works on its own copy. */
struct compile_state {
	struct project_dirs dirs;
	struct roundloop rl;
	int units, jobs, cpu;
	uint64_t seed, source_bytes;
};

static int compile_prepare(void *arg, char *why, size_t why_len)
{
	struct compile_state *st = arg;
	return project_dirs_write(&st->dirs, st->seed, st->units, NULL, why, why_len);
}

static pid_t compile_round_start(void *arg, char *why, size_t why_len)
{
	struct compile_state *st = arg;
	if (scratch_rm_tree(st->dirs.obj) != 0 || mkdir(st->dirs.obj, 0755) != 0) {
		snprintf(why, why_len, "cannot empty %s: %s", st->dirs.obj, strerror(errno));
		return -1;
	}
	char *argv[] = { "make", "-s", "-j", st->dirs.jobs_arg, "CC=gcc", NULL };
	struct spawn_opts o = { .cwd = st->dirs.proj, .cpu = -1, .log_path = st->dirs.log, .keep_fd = st->dirs.sc.keep_fd };
	return scratch_spawn(argv, &o, why, why_len);
}

static int compile_round_end(void *arg, int status, char *why, size_t why_len)
{
	struct compile_state *st = arg;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char what[200];
		scratch_describe_exit(status, st->dirs.log, what, sizeof(what));
		snprintf(why, why_len, "make: %s", what);
		return -1;
	}
	return 0;
}

static void compile_cut_short(void *arg, struct roundloop_shared *sh)
{
	struct compile_state *st = arg;
	scratch_count_files(st->dirs.obj, ".o", &sh->partial_units, &sh->partial_bytes);
}

static const struct roundloop_ops compile_round_ops = {
	.prepare = compile_prepare,
	.round_start = compile_round_start,
	.round_end = compile_round_end,
	.cut_short = compile_cut_short,
};

static int compile_probe(struct load_ctx *ctx)
{
	const struct compile_cfg *cfg = ctx->cfg;
	char path[512];
	if (!scratch_find_program("gcc", path, sizeof(path)))
		return load_why(ctx, BENCH_SKIP, "gcc is not in PATH (Debian: gcc)");
	if (!scratch_find_program("make", path, sizeof(path)))
		return load_why(ctx, BENCH_SKIP, "make is not in PATH (Debian: make)");
	const char *bad = project_check(cfg->units, cfg->jobs);
	return bad ? load_why(ctx, BENCH_FAIL, "%s", bad) : BENCH_OK;
}

static void compile_free(struct load_ctx *ctx)
{
	struct compile_state *st = ctx->priv;
	if (!st)
		return;
	roundloop_stop(&st->rl, NULL, 0);
	roundloop_free(&st->rl);
	scratch_remove(&st->dirs.sc);
	free(st);
	ctx->priv = NULL;
}

static int compile_start(struct load_ctx *ctx)
{
	const struct compile_cfg *cfg = ctx->cfg;
	struct compile_state *st = calloc(1, sizeof(*st));
	if (!st)
		return load_why(ctx, BENCH_FAIL, "out of memory");
	ctx->priv = st;
	st->units = (int)cfg->units;
	st->jobs = (int)cfg->jobs;
	st->seed = (uint64_t)cfg->seed;
	st->cpu = cfg->cpu_mode == COMPILE_CPU_CASE ? ctx->case_cpu : ctx->cpu;
	char why[256];
	if (project_dirs_init(&st->dirs, "compile", st->jobs, why, sizeof(why)) != 0) {
		compile_free(ctx);
		return load_why(ctx, BENCH_FAIL, "%s", why);
	}
	if (roundloop_start(&st->rl, &compile_round_ops, st, st->cpu, COMPILE_READY_TIMEOUT_MS, why,
			    sizeof(why)) != 0) {
		compile_free(ctx);
		return load_why(ctx, BENCH_FAIL, "%s", why);
	}
	return BENCH_OK;
}

static int compile_stop(struct load_ctx *ctx)
{
	struct compile_state *st = ctx->priv;
	if (!st)
		return BENCH_OK;
	char why[256] = "";
	int rc = roundloop_stop(&st->rl, why, sizeof(why)) == 0 ? BENCH_OK : BENCH_FAIL;
	const struct roundloop_shared *sh = st->rl.sh;
	struct report *r = ctx->report;
	double wall_s = roundloop_report(&st->rl, r, "build");
	uint64_t builds = atomic_load(&sh->rounds);
	/* units: main.c is one more translation unit */
	double units = (double)builds * (double)(st->units + 1) + (double)sh->partial_units;
	report_int(r, "cpu", st->cpu, "");
	report_int(r, "units", st->units, "files");
	report_int(r, "jobs", st->jobs, "");
	report_real(r, "builds_per_s", wall_s > 0 ? (double)builds / wall_s : 0.0, "builds/s");
	report_real(r, "units_per_s", wall_s > 0 ? units / wall_s : 0.0, "units/s");
	compile_free(ctx);
	return rc == BENCH_OK ? BENCH_OK : load_why(ctx, rc, "%s", why);
}

static const struct loadgen_ops compile_ops = {
	.name = "compile",
	.abi_version = LOADGEN_ABI_VERSION,
	.help = "make -j N of a generated C project, from clean, in a loop (Karma's Figure 2 workload, seed 004)",
	.opts = compile_opts,
	.cfg_size = sizeof(struct compile_cfg),
	.probe = compile_probe,
	.start = compile_start,
	.stop = compile_stop,
};
LOADGEN_REGISTER(compile_ops)
