/*
 * pipe-rpc: messages over pipes between two threads or two processes, the
 * Hijack^COS baselines "Pipe RPC" (request and reply, timed as a round trip)
 * and "Pipe" (one message, timed one way with the sender's TSC stamp).
 *
 * Request pipe: main -> peer (the request, or a one-byte go for one-way).
 * Reply pipe: peer -> main (the reply, or the stamped one-way message).
 * The peer exits when it reads EOF on the request pipe, so closing main's
 * end is the stop signal; a dead peer process shows up as EOF on the reply
 * pipe, so main never waits for it forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "mechanism.h"
#include "peer.h"
#include "placement.h"

struct pipe_cfg {
	int64_t msg_bytes;
	int placement;
};

static const struct opt_desc pipe_opts[] = {
	/* Up to PIPE_BUF, so every message is written atomically in one piece. */
	OPT_INT_FIELD(struct pipe_cfg, msg_bytes, "4", 1, PIPE_BUF, "bytes",
		      "size of each message (request, reply, one-way message)"),
	OPT_ENUM_FIELD(struct pipe_cfg, placement, "split", placement_names,
		       "split: main on cpu, peer on peer_cpu; same: both on cpu; "
		       "free: neither pinned, the kernel places both (like perf bench sched pipe)"),
	OPT_TABLE_END,
};

/* What differs between the experiments: the variant's own setup knows its one. */
struct pipe_exp {
	bool process;   /* the peer is a forked process, else a thread */
	bool oneway;    /* one stamped message per go byte, else request and reply */
};

static const struct pipe_exp thread_rtt_exp = { .process = false, .oneway = false };
static const struct pipe_exp process_rtt_exp = { .process = true, .oneway = false };
static const struct pipe_exp thread_oneway_exp = { .process = false, .oneway = true };
static const struct pipe_exp process_oneway_exp = { .process = true, .oneway = true };

/*
 * In ctx->priv, private memory: a peer process works on its own copy from
 * the fork, so main may close and forget the peer's ends afterwards. Only
 * the one-way stamp lives in memory shared across fork.
 */
struct pipe_state {
	bool set_up;          /* setup ran: the fds below are open or -1 */
	uint64_t *sent_tsc;   /* one cache line of peer_shared_alloc memory */
	int req[2];
	int rsp[2];
	size_t msg_bytes;
	bool oneway;
	bool process;
	struct peer peer;
	char main_buf[PIPE_BUF];
	char peer_buf[PIPE_BUF];
};

/* n bytes, or 0 on EOF, or -1 with errno. */
static ssize_t read_full(int fd, char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, buf + done, n - done);
		if (r == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0)
			done += (size_t)r;
	}
	return (ssize_t)n;
}

/* 0, or -1 with errno. */
static int write_full(int fd, const char *buf, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, buf + done, n - done);
		if (w < 0 && errno != EINTR)
			return -1;
		if (w > 0)
			done += (size_t)w;
	}
	return 0;
}

/* The peer: answer each request, or send one stamped message per go. */
static int pipe_peer_loop(void *arg)
{
	struct pipe_state *st = arg;

	size_t in_bytes = st->oneway ? 1 : st->msg_bytes;

	for (;;) {
		ssize_t r = read_full(st->req[0], st->peer_buf, in_bytes);
		if (r <= 0)
			return r == 0 ? 0 : 1;   /* EOF: main has finished */
		if (st->oneway)
			__atomic_store_n(st->sent_tsc, tsc_start(), __ATOMIC_RELEASE);
		if (write_full(st->rsp[1], st->peer_buf, st->msg_bytes) != 0)
			return 1;
	}
}

static int pipe_peer_process(void *arg)
{
	struct pipe_state *st = arg;

	/* Drop main's ends, so main closing its own is seen here as EOF. */
	close(st->req[1]);
	close(st->rsp[0]);
	return pipe_peer_loop(st);
}

static void pipe_teardown(struct mech_ctx *ctx);

static int pipe_setup_steps(struct mech_ctx *ctx, struct pipe_state *st)
{
	const struct pipe_cfg *cfg = ctx->cfg;
	int peer_cpu, rc;

	st->msg_bytes = (size_t)cfg->msg_bytes;
	if (pipe2(st->req, O_CLOEXEC) != 0 || pipe2(st->rsp, O_CLOEXEC) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "pipe2");
	rc = placement_apply(ctx, cfg->placement, &peer_cpu);
	if (rc == BENCH_OK && st->oneway)
		rc = placement_tsc_check(ctx, cfg->placement == PLACE_FREE ? -1 : ctx->cpu, peer_cpu);
	if (rc == BENCH_OK)
		rc = peer_start_or_fail(ctx, &st->peer, st->process, peer_cpu,
					st->process ? pipe_peer_process : pipe_peer_loop, st);
	return rc;
}

static int pipe_setup(struct mech_ctx *ctx, const struct pipe_exp *e)
{
	struct pipe_state *st = ctx->priv;

	st->req[0] = st->req[1] = st->rsp[0] = st->rsp[1] = -1;
	st->set_up = true;
	st->oneway = e->oneway;
	st->process = e->process;
	st->sent_tsc = peer_shared_alloc(BENCH_CACHELINE);
	int rc = st->sent_tsc ? pipe_setup_steps(ctx, st) :
		 mech_why_errno(ctx, BENCH_FAIL, "cannot allocate shared memory");
	if (rc != BENCH_OK)
		pipe_teardown(ctx);
	return rc;
}

static int thread_rtt_setup(struct mech_ctx *ctx) { return pipe_setup(ctx, &thread_rtt_exp); }
static int process_rtt_setup(struct mech_ctx *ctx) { return pipe_setup(ctx, &process_rtt_exp); }
static int thread_oneway_setup(struct mech_ctx *ctx) { return pipe_setup(ctx, &thread_oneway_exp); }
static int process_oneway_setup(struct mech_ctx *ctx) { return pipe_setup(ctx, &process_oneway_exp); }

static int reply_failed(struct mech_ctx *ctx, ssize_t r)
{
	if (r == 0)
		return mech_why(ctx, BENCH_FAIL, "the peer closed its pipe (it exited)");
	return mech_why_errno(ctx, BENCH_FAIL, "read from the peer");
}

static int measure_rtt(struct mech_ctx *ctx, struct samples *s)
{
	struct pipe_state *st = ctx->priv;

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		if (write_full(st->req[1], st->main_buf, st->msg_bytes) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "write to the peer");
		ssize_t r = read_full(st->rsp[0], st->main_buf, st->msg_bytes);
		uint64_t t1 = tsc_end();
		if (r <= 0)
			return reply_failed(ctx, r);
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

/*
 * The go byte makes the peer send into an empty pipe, normally while main
 * is already asleep in read(): the delta is send to wake-up and receipt,
 * with no queueing behind earlier messages.
 */
static int measure_oneway(struct mech_ctx *ctx, struct samples *s)
{
	struct pipe_state *st = ctx->priv;
	uint64_t backwards = 0;
	const char go = 'g';

	while (!samples_full(s)) {
		if (write_full(st->req[1], &go, 1) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "write to the peer");
		ssize_t r = read_full(st->rsp[0], st->main_buf, st->msg_bytes);
		uint64_t t1 = tsc_end();
		if (r <= 0)
			return reply_failed(ctx, r);
		uint64_t sent = __atomic_load_n(st->sent_tsc, __ATOMIC_ACQUIRE);
		/* Passed the sync check, yet a step back would wrap to a huge delta. */
		if ((int64_t)(t1 - sent) < 0)
			backwards++;
		else
			samples_add(s, t1 - sent);
	}
	/* deltas where the TSC stepped back between the two CPUs: dropped, never samples */
	report_int(ctx->report, "backwards_deltas", (int64_t)backwards, "");
	return BENCH_OK;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void pipe_teardown(struct mech_ctx *ctx)
{
	struct pipe_state *st = ctx->priv;

	if (!st || !st->set_up)
		return;
	/* EOF on the request pipe tells the peer to exit. */
	close_fd(&st->req[1]);
	peer_stop(&st->peer, PEER_REAP_TIMEOUT_MS);
	close_fd(&st->req[0]);
	close_fd(&st->rsp[0]);
	close_fd(&st->rsp[1]);
	peer_shared_free(st->sent_tsc, BENCH_CACHELINE);
	st->sent_tsc = NULL;
	st->set_up = false;
}

static const struct variant_desc pipe_variants[] = {
	{ .name = "thread-rtt", .help = "request and reply between two threads, round trip",
	  .setup = thread_rtt_setup, .measure = measure_rtt },
	{ .name = "process-rtt", .help = "request and reply between two processes, round trip",
	  .setup = process_rtt_setup, .measure = measure_rtt },
	{ .name = "thread-oneway", .help = "one message from a peer thread, send to receipt",
	  .setup = thread_oneway_setup, .measure = measure_oneway },
	{ .name = "process-oneway", .help = "one message from a peer process, send to receipt",
	  .setup = process_oneway_setup, .measure = measure_oneway },
	{ NULL, NULL },
};

static const struct mechanism_ops pipe_rpc_ops = {
	.name = "pipe-rpc",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "RPC round trip and one-way message over pipes, between threads or processes",
	.variants = pipe_variants,
	.opts = pipe_opts,
	.cfg_size = sizeof(struct pipe_cfg),
	.priv_size = sizeof(struct pipe_state),
	.unit = SAMPLE_CYCLES,
	.teardown = pipe_teardown,
};
MECHANISM_REGISTER(pipe_rpc_ops)
