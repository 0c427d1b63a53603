/*
 * tar: the Karma paper's load (seed 004, "tar -xf linux.tar.bz2" unpacking a
 * disk-resident archive in a loop). start() generates a source-like tree
 * (srctree.h, deterministic from a seed) in a scratch folder, packs it with
 * the system's tar (and bzip2 or gzip) with fixed names, owners and times,
 * so the same seed gives the same archive, and unpacks it into a folder
 * that is removed between rounds, until stop(). Everything runs in a load
 * process of its own on the load's CPU (roundloop.h); every file is in the
 * scratch folder, removed on every exit path (scratch.h).
 *
 * stop() reports what was achieved: rounds completed, MiB and files
 * extracted per second (the round cut short by stop counted by what it had
 * written), over the wall time from the first round's start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "loadgen.h"
#include "roundloop.h"
#include "scratch.h"
#include "srctree.h"

#define TAR_READY_TIMEOUT_MS 600000u   /* generating and packing a big tree takes a while */
#define MIB (1024.0 * 1024.0)

enum tar_compress { TAR_BZIP2, TAR_GZIP, TAR_NONE };
enum tar_cpu_mode { TAR_CPU_PEER, TAR_CPU_CASE };

static const char *const compress_names[] = { "bzip2", "gzip", "none", NULL };
static const char *const cpu_mode_names[] = { "peer", "case", NULL };

/* tar's flags for each compression, and the program it runs */
static const struct {
	const char *create, *extract, *suffix, *program;
} tar_modes[] = {
	[TAR_BZIP2] = { "-cjf", "-xjf", ".tar.bz2", "bzip2" },
	[TAR_GZIP] = { "-czf", "-xzf", ".tar.gz", "gzip" },
	[TAR_NONE] = { "-cf", "-xf", ".tar", NULL },
};

struct tar_cfg {
	int64_t size_mb;
	int64_t files;
	int64_t seed;
	int compress;
	int cpu_mode;
};

static const struct opt_desc tar_opts[] = {
	OPT_INT_FIELD(struct tar_cfg, size_mb, "32", 1, SRCTREE_SIZE_MB_MAX, "MiB",
		      "size of the generated source tree (unpacked), the bytes each round writes"),
	OPT_INT_FIELD(struct tar_cfg, files, "4000", 1, SRCTREE_FILES_MAX, "files",
		      "files in the tree (most of a few KiB, some of tens of KiB, a few of hundreds)"),
	OPT_INT_FIELD(struct tar_cfg, seed, "1", 0, INT64_MAX, "", "seed of the tree's paths, sizes and text"),
	OPT_ENUM_FIELD(struct tar_cfg, compress, "bzip2", compress_names,
		       "archive compression: bzip2 (the paper's), gzip or none"),
	OPT_ENUM_FIELD(struct tar_cfg, cpu_mode, "peer", cpu_mode_names,
		       "where the load runs: the case's peer CPU, or the measuring CPU itself "
		       "(the paper's single-CPU VM: load and cyclictest share one CPU)"),
	OPT_TABLE_END,
};

/* ctx->priv, from start() to stop(); the load process works on its own copy. */
struct tar_state {
	struct scratch sc;
	struct roundloop rl;
	struct srctree_plan plan;
	int compress;
	int cpu;
	char src[SCRATCH_PATH_MAX], archive[SCRATCH_PATH_MAX], out[SCRATCH_PATH_MAX], log[SCRATCH_PATH_MAX];
};

static pid_t tar_spawn(struct tar_state *st, const char *flags, const char *dir, char *why, size_t why_len)
{
	/* fixed names, owners and times: the same seed gives the same archive */
	char *create[] = { "tar", "--sort=name", "--mtime=@1262304000", "--owner=0", "--group=0", "--numeric-owner",
			   (char *)flags, st->archive, "-C", (char *)dir, ".", NULL };
	char *extract[] = { "tar", (char *)flags, st->archive, "-C", (char *)dir, NULL };
	struct spawn_opts o = { .cpu = -1, .log_path = st->log, .keep_fd = st->sc.keep_fd };
	return scratch_spawn(flags[1] == 'c' ? create : extract, &o, why, why_len);
}

/* In the load process: the tree, packed; the tree itself is removed (only the archive is read). */
static int tar_prepare(void *arg, char *why, size_t why_len)
{
	struct tar_state *st = arg;
	if (mkdir(st->src, 0755) != 0) {
		snprintf(why, why_len, "mkdir %s: %s", st->src, strerror(errno));
		return -1;
	}
	if (srctree_write(&st->plan, st->src, why, why_len) != 0)
		return -1;
	pid_t pid = tar_spawn(st, tar_modes[st->compress].create, st->src, why, why_len);
	if (pid < 0 || roundloop_run(pid, st->log, why, why_len) != 0)
		return -1;
	if (scratch_rm_tree(st->src) != 0) {
		snprintf(why, why_len, "cannot remove %s: %s", st->src, strerror(errno));
		return -1;
	}
	return 0;
}

static pid_t tar_round_start(void *arg, char *why, size_t why_len)
{
	struct tar_state *st = arg;
	if (mkdir(st->out, 0755) != 0) {
		snprintf(why, why_len, "mkdir %s: %s", st->out, strerror(errno));
		return -1;
	}
	return tar_spawn(st, tar_modes[st->compress].extract, st->out, why, why_len);
}

static int tar_round_end(void *arg, int status, char *why, size_t why_len)
{
	struct tar_state *st = arg;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char what[200];
		scratch_describe_exit(status, st->log, what, sizeof(what));
		snprintf(why, why_len, "tar -x: %s", what);
		return -1;
	}
	if (scratch_rm_tree(st->out) != 0) {
		snprintf(why, why_len, "cannot remove %s: %s", st->out, strerror(errno));
		return -1;
	}
	return 0;
}

static void tar_cut_short(void *arg, struct roundloop_shared *sh)
{
	struct tar_state *st = arg;
	scratch_count_files(st->out, NULL, &sh->partial_units, &sh->partial_bytes);
}

static const struct roundloop_ops tar_round_ops = {
	.prepare = tar_prepare,
	.round_start = tar_round_start,
	.round_end = tar_round_end,
	.cut_short = tar_cut_short,
};

static int tar_probe(struct load_ctx *ctx)
{
	const struct tar_cfg *cfg = ctx->cfg;
	char path[512];
	if (!scratch_find_program("tar", path, sizeof(path)))
		return load_why(ctx, BENCH_SKIP, "tar is not in PATH (Debian: tar)");
	const char *prog = tar_modes[cfg->compress].program;
	if (prog && !scratch_find_program(prog, path, sizeof(path)))
		return load_why(ctx, BENCH_SKIP, "%s is not in PATH (Debian: %s), compress = \"%s\" needs it", prog,
				prog, prog);
	const char *bad = srctree_check(cfg->size_mb, cfg->files);
	return bad ? load_why(ctx, BENCH_FAIL, "%s", bad) : BENCH_OK;
}

static void tar_free(struct load_ctx *ctx)
{
	struct tar_state *st = ctx->priv;
	if (!st)
		return;
	roundloop_stop(&st->rl, NULL, 0);
	roundloop_free(&st->rl);
	scratch_remove(&st->sc);
	srctree_plan_free(&st->plan);
	free(st);
	ctx->priv = NULL;
}

static int tar_start(struct load_ctx *ctx)
{
	const struct tar_cfg *cfg = ctx->cfg;
	struct tar_state *st = calloc(1, sizeof(*st));
	if (!st)
		return load_why(ctx, BENCH_FAIL, "out of memory");
	ctx->priv = st;
	st->compress = cfg->compress;
	st->cpu = cfg->cpu_mode == TAR_CPU_CASE ? ctx->case_cpu : ctx->cpu;
	char why[256];
	if (srctree_plan_make(&st->plan, (uint64_t)cfg->seed, (uint64_t)cfg->size_mb << 20, (uint32_t)cfg->files)) {
		tar_free(ctx);
		return load_why(ctx, BENCH_FAIL, "cannot plan a tree of %lld MiB in %lld files",
				(long long)cfg->size_mb, (long long)cfg->files);
	}
	if (scratch_create(&st->sc, "tar", why, sizeof(why)) != 0) {
		tar_free(ctx);
		return load_why(ctx, BENCH_FAIL, "%s", why);
	}
	char name[32];
	snprintf(name, sizeof(name), "tree%s", tar_modes[st->compress].suffix);
	if (scratch_join(st->src, sizeof(st->src), st->sc.path, "src") ||
	    scratch_join(st->archive, sizeof(st->archive), st->sc.path, name) ||
	    scratch_join(st->out, sizeof(st->out), st->sc.path, "x") ||
	    scratch_join(st->log, sizeof(st->log), st->sc.path, "tar.log")) {
		tar_free(ctx);
		return load_why(ctx, BENCH_FAIL, "scratch paths too long");
	}
	if (roundloop_start(&st->rl, &tar_round_ops, st, st->cpu, TAR_READY_TIMEOUT_MS, why, sizeof(why)) != 0) {
		tar_free(ctx);
		return load_why(ctx, BENCH_FAIL, "%s", why);
	}
	return BENCH_OK;
}

static int tar_stop(struct load_ctx *ctx)
{
	struct tar_state *st = ctx->priv;
	if (!st)
		return BENCH_OK;
	char why[256] = "";
	int rc = roundloop_stop(&st->rl, why, sizeof(why)) == 0 ? BENCH_OK : BENCH_FAIL;
	const struct roundloop_shared *sh = st->rl.sh;
	struct stat ast;
	double archive_mib = stat(st->archive, &ast) == 0 ? (double)ast.st_size / MIB : 0.0;
	struct report *r = ctx->report;
	double wall_s = roundloop_report(&st->rl, r, "round");
	uint64_t rounds = atomic_load(&sh->rounds);
	double bytes = (double)rounds * (double)st->plan.total_bytes + (double)sh->partial_bytes;
	double files = (double)rounds * (double)st->plan.files + (double)sh->partial_units;
	report_int(r, "cpu", st->cpu, "");
	report_kv(r, "compress", "%s", compress_names[st->compress]);
	report_real(r, "mib_per_s", wall_s > 0 ? bytes / MIB / wall_s : 0.0, "MiB/s");
	report_real(r, "files_per_s", wall_s > 0 ? files / wall_s : 0.0, "files/s");
	report_real(r, "tree_mib", (double)st->plan.total_bytes / MIB, "MiB");
	report_int(r, "tree_files", st->plan.files, "files");
	report_real(r, "archive_mib", archive_mib, "MiB");
	tar_free(ctx);
	return rc == BENCH_OK ? BENCH_OK : load_why(ctx, rc, "%s", why);
}

static const struct loadgen_ops tar_ops = {
	.name = "tar",
	.abi_version = LOADGEN_ABI_VERSION,
	.help = "tar -x of a generated source tree's bzip2 archive in a loop (Karma's load, seed 004)",
	.opts = tar_opts,
	.cfg_size = sizeof(struct tar_cfg),
	.probe = tar_probe,
	.start = tar_start,
	.stop = tar_stop,
};
LOADGEN_REGISTER(tar_ops)
