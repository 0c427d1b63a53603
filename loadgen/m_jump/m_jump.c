/*
 * m_jump: the memory-bus stressor of vLibOS (Ye et al., Listing 2) as a load
 * generator. One process pinned to a host CPU writes 4 bytes every `line`
 * bytes of a `size` array, jumping `jump` bytes between writes (paper: 6 MB,
 * 64 B, 8 KB), as fast as it can until stopped. The loop is mjump_core.h,
 * the same one mechanism vlib runs as its real-time task and in its guest.
 * stop() reports the passes (every line written once) and writes per
 * second actually achieved.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "mjump_core.h"
#include "peer.h"

#define MJ_CPU_PEER (-1)
#define MJ_CPU_CASE (-2)

struct mj_cfg {
	int64_t size_kb;
	int64_t line_bytes;
	int64_t jump_bytes;
	int64_t cpu;
	int64_t nice;
};

static const struct opt_desc mj_opts[] = {
	OPT_INT_FIELD(struct mj_cfg, size_kb, "6144", 16, 1 << 20, "KiB", "array size (paper: 6 MB)"),
	OPT_INT_FIELD(struct mj_cfg, line_bytes, "64", 4, 4096, "bytes", "stride of the writes within a column (paper: 64)"),
	OPT_INT_FIELD(struct mj_cfg, jump_bytes, "8192", 64, 1 << 20, "bytes", "jump between consecutive writes (paper: 8 KB)"),
	OPT_INT_FIELD(struct mj_cfg, cpu, "-1", MJ_CPU_CASE, 1023, "",
		      "CPU to pin m_jump to (-1 = the case's peer CPU, -2 = the case's measuring CPU)"),
	OPT_INT_FIELD(struct mj_cfg, nice, "0", -20, 19, "", "nice value (SCHED_OTHER; never real-time)"),
	OPT_TABLE_END,
};

struct mj_shared {
	struct mjump_shape shape;
	_Atomic int stop;
	_Atomic int started;         /* 1 running, -1 could not map its array */
	_Alignas(64) _Atomic uint64_t columns;
};

struct mj_state {
	struct mj_shared *sh;
	pid_t pid;
	bool running;
	struct timespec t0;
	uint64_t columns0;
	int cpu;
};

/* The child: map and touch the array, then columns until told to stop. */
static int mj_child(void *arg)
{
	struct mj_shared *sh = arg;
	uint64_t size = sh->shape.size_bytes;
	uint8_t *array = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (array == MAP_FAILED) {
		atomic_store(&sh->started, -1);
		return 1;
	}
	memset(array, 0, size);
	atomic_store(&sh->started, 1);
	uint64_t column = 0;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		mjump_column(array, &sh->shape, column++);
		atomic_store_explicit(&sh->columns, column, memory_order_relaxed);
	}
	munmap(array, size);
	return 0;
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int mj_start(struct load_ctx *ctx)
{
	const struct mj_cfg *cfg = ctx->cfg;
	struct mj_state *mj = ctx->priv;
	struct mjump_shape shape = { .size_bytes = (uint64_t)cfg->size_kb << 10, .line_bytes = (uint64_t)cfg->line_bytes,
				     .jump_bytes = (uint64_t)cfg->jump_bytes };
	const char *problem = mjump_shape_problem(&shape);
	if (problem)
		return load_why(ctx, BENCH_FAIL, "m_jump shape: %s", problem);
	mj->sh = peer_shared_alloc(sizeof(*mj->sh));
	if (!mj->sh)
		return load_why(ctx, BENCH_FAIL, "cannot map shared memory: %s", strerror(errno));
	mj->sh->shape = shape;
	mj->cpu = cfg->cpu == MJ_CPU_CASE ? ctx->case_cpu : cfg->cpu == MJ_CPU_PEER ? ctx->cpu : (int)cfg->cpu;
	struct mech_ctx peer = { .peer_cpu = mj->cpu, .priority = 0 };
	int err = peer_process_start(&peer, &mj->pid, mj_child, mj->sh);
	if (err)
		return load_why(ctx, BENCH_FAIL, "cannot start m_jump on CPU %d: %s", mj->cpu, strerror(err));
	mj->running = true;
	if (setpriority(PRIO_PROCESS, (id_t)mj->pid, (int)cfg->nice) != 0)
		report_kv(ctx->report, "nice", "not set: %s", strerror(errno));
	/* steady once the array is touched and the first columns ran */
	for (int tries = 0; atomic_load(&mj->sh->started) == 0 || atomic_load(&mj->sh->columns) == 0; tries++) {
		if (atomic_load(&mj->sh->started) < 0)
			return load_why(ctx, BENCH_FAIL, "m_jump could not map its %llu-byte array",
					(unsigned long long)shape.size_bytes);
		if (tries > PEER_READY_TIMEOUT_MS)
			return load_why(ctx, BENCH_FAIL, "m_jump did not start within %d ms", PEER_READY_TIMEOUT_MS);
		usleep(1000);
	}
	mj->columns0 = atomic_load(&mj->sh->columns);
	clock_gettime(CLOCK_MONOTONIC, &mj->t0);
	report_int(ctx->report, "cpu", mj->cpu, "");
	report_int(ctx->report, "array_bytes", (int64_t)shape.size_bytes, "bytes");
	report_int(ctx->report, "line_bytes", (int64_t)shape.line_bytes, "bytes");
	report_int(ctx->report, "jump_bytes", (int64_t)shape.jump_bytes, "bytes");
	return BENCH_OK;
}

static int mj_stop(struct load_ctx *ctx)
{
	struct mj_state *mj = ctx->priv;
	if (!mj->sh)
		return BENCH_OK;
	int rc = BENCH_OK;
	if (mj->running) {
		double wall_s = elapsed_s(&mj->t0);
		uint64_t columns = atomic_load(&mj->sh->columns) - mj->columns0;
		atomic_store(&mj->sh->stop, 1);
		if (peer_process_reap(mj->pid, PEER_REAP_TIMEOUT_MS) != 0)
			rc = load_why(ctx, BENCH_FAIL, "m_jump did not exit cleanly");
		const struct mjump_shape *s = &mj->sh->shape;
		double passes = (double)columns / (double)mjump_columns_per_pass(s);
		report_real(ctx->report, "wall_s", wall_s, "s");
		report_real(ctx->report, "passes_per_s", wall_s > 0 ? passes / wall_s : 0.0, "passes/s");
		report_real(ctx->report, "writes_per_s",
			    wall_s > 0 ? passes * (double)mjump_writes_per_pass(s) / wall_s : 0.0, "writes/s");
	}
	peer_shared_free(mj->sh, sizeof(*mj->sh));
	mj->sh = NULL;
	mj->running = false;
	return rc;
}

static const struct loadgen_ops mj_ops = {
	.name = "m_jump",
	.abi_version = LOADGEN_ABI_VERSION,
	.help = "vLibOS m_jump memory-bus stressor on one host CPU (6 MB array, a write every 64 B, 8 KB jumps)",
	.opts = mj_opts,
	.cfg_size = sizeof(struct mj_cfg),
	.priv_size = sizeof(struct mj_state),
	.start = mj_start,
	.stop = mj_stop,
};
LOADGEN_REGISTER(mj_ops)
