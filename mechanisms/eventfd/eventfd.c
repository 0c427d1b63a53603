/*
 * eventfd: ping-pong over two eventfds between two threads or two processes
 * (the eventfds are created before the fork, so both processes share them).
 * Each round main writes 1 to the peer's eventfd and blocks reading its own;
 * the peer reads, writes 1 back. The sample is that round trip: the cost of
 * the signalling primitive the translator's ioeventfd/irqfd path builds on.
 *
 * A value other than 1 carries control: STOP_VALUE from main tells the peer
 * to exit, PEER_FAILED from the peer tells main it gave up.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "mechanism.h"
#include "peer.h"
#include "placement.h"

struct eventfd_cfg {
	int placement;
};

static const struct opt_desc eventfd_opts[] = {
	OPT_ENUM_FIELD(struct eventfd_cfg, placement, "split", placement_names,
		       "split: main on cpu, peer on peer_cpu; same: both on cpu; "
		       "free: neither pinned, the kernel places both"),
	OPT_TABLE_END,
};

/* Far above anything the ping-pong leaves in a counter. */
#define STOP_VALUE (1ull << 32)
#define PEER_FAILED (1ull << 33)

/* In ctx->priv; a process peer works on its copy from the fork. */
struct eventfd_state {
	bool set_up;   /* setup ran: the fds below are open or -1 */
	int to_peer;   /* main writes, peer reads */
	int to_main;   /* peer writes, main reads */
	bool process;
	struct peer peer;
};

/* 0, or -1 with errno. */
static int efd_write(int fd, uint64_t v)
{
	ssize_t w;

	do {
		w = write(fd, &v, sizeof(v));
	} while (w < 0 && errno == EINTR);
	return w == (ssize_t)sizeof(v) ? 0 : -1;
}

/* 0, or -1 with errno. */
static int efd_read(int fd, uint64_t *v)
{
	ssize_t r;

	do {
		r = read(fd, v, sizeof(*v));
	} while (r < 0 && errno == EINTR);
	return r == (ssize_t)sizeof(*v) ? 0 : -1;
}

/* The first write says "ready"; then answer each 1 with a 1. */
static int eventfd_peer_loop(void *arg)
{
	struct eventfd_state *st = arg;

	uint64_t v = 1;

	while (v == 1) {
		if (efd_write(st->to_main, 1) != 0 || efd_read(st->to_peer, &v) != 0)
			break;
	}
	if (v >= STOP_VALUE && v < PEER_FAILED)
		return 0;
	/* Main may be asleep in read(): tell it that we gave up. */
	efd_write(st->to_main, PEER_FAILED);
	return 1;
}

/* Bounded, so that a peer that never comes up is a clear failure, not a hang. */
static int wait_ready(struct mech_ctx *ctx, struct eventfd_state *st)
{
	struct pollfd pfd = { .fd = st->to_main, .events = POLLIN };
	uint64_t v;

	int n = poll(&pfd, 1, PEER_READY_TIMEOUT_MS);
	if (n < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "poll");
	if (n == 0)
		return mech_why(ctx, BENCH_FAIL, "the peer did not start within %d ms",
				PEER_READY_TIMEOUT_MS);
	if (efd_read(st->to_main, &v) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "read the peer's eventfd");
	if (v != 1)
		return mech_why(ctx, BENCH_FAIL, "the peer failed to start");
	return BENCH_OK;
}

static void eventfd_teardown(struct mech_ctx *ctx);

static int eventfd_setup_steps(struct mech_ctx *ctx, struct eventfd_state *st)
{
	const struct eventfd_cfg *cfg = ctx->cfg;
	int peer_cpu;

	st->to_peer = eventfd(0, EFD_CLOEXEC);
	st->to_main = eventfd(0, EFD_CLOEXEC);
	if (st->to_peer < 0 || st->to_main < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "eventfd");
	int rc = placement_apply(ctx, cfg->placement, &peer_cpu);
	if (rc == BENCH_OK)
		rc = peer_start_or_fail(ctx, &st->peer, st->process, peer_cpu, eventfd_peer_loop, st);
	if (rc == BENCH_OK)
		rc = wait_ready(ctx, st);
	return rc;
}

static int eventfd_setup(struct mech_ctx *ctx, bool process)
{
	struct eventfd_state *st = ctx->priv;

	st->to_peer = st->to_main = -1;
	st->set_up = true;
	st->process = process;
	int rc = eventfd_setup_steps(ctx, st);
	if (rc != BENCH_OK)
		eventfd_teardown(ctx);
	return rc;
}

static int thread_setup(struct mech_ctx *ctx) { return eventfd_setup(ctx, false); }
static int process_setup(struct mech_ctx *ctx) { return eventfd_setup(ctx, true); }

static int eventfd_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct eventfd_state *st = ctx->priv;
	uint64_t v;

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		if (efd_write(st->to_peer, 1) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "write the peer's eventfd");
		int r = efd_read(st->to_main, &v);
		uint64_t t1 = tsc_end();
		if (r != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "read main's eventfd");
		if (v != 1)
			return mech_why(ctx, BENCH_FAIL, "the peer failed (value %#llx)",
					(unsigned long long)v);
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void eventfd_teardown(struct mech_ctx *ctx)
{
	struct eventfd_state *st = ctx->priv;

	if (!st || !st->set_up)
		return;
	if (st->peer.started) {
		/* If even this write fails, the reap's timeout and SIGKILL end a process peer. */
		efd_write(st->to_peer, STOP_VALUE);
		peer_stop(&st->peer, PEER_REAP_TIMEOUT_MS);
	}
	close_fd(&st->to_peer);
	close_fd(&st->to_main);
	st->set_up = false;
}

static const struct variant_desc eventfd_variants[] = {
	{ .name = "thread", .help = "two threads", .setup = thread_setup },
	{ .name = "process", .help = "two processes, eventfds shared across fork", .setup = process_setup },
	{ NULL, NULL },
};

static const struct mechanism_ops eventfd_ops = {
	.name = "eventfd",
	.abi_version = MECHANISM_ABI_VERSION,
	.flags = MECH_SUBTRACT_PROBE_OVERHEAD,
	.help = "eventfd write/read ping-pong round trip between threads or processes",
	.variants = eventfd_variants,
	.opts = eventfd_opts,
	.cfg_size = sizeof(struct eventfd_cfg),
	.priv_size = sizeof(struct eventfd_state),
	.unit = SAMPLE_CYCLES,
	.measure = eventfd_measure,
	.teardown = eventfd_teardown,
};
MECHANISM_REGISTER(eventfd_ops)
