/*
 * Experiment 5: inter-protection-domain communication (the paper's IPC
 * figure). Two sides exchange 4-byte messages over a pair of pipes; after
 * each message the peer reads one cache line in each of working_set_pages
 * pages of its own memory, then replies. The sample is the round trip.
 *
 *   ipc-thread    both sides in one address space: a switch keeps the
 *                 page tables, so the peer's working set stays in the TLB
 *   ipc-process   separate address spaces: each switch changes CR3 (with
 *                 PCID the TLB entries may survive; /proc/cpuinfo says
 *                 whether this CPU has it, reported as "pcid")
 *
 * ipc_placement "same" (default) runs both on the measuring CPU, so every
 * message is a context switch, as on the paper's uniprocessor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "peer.h"
#include "placement.h"
#include "sandbox.h"
#include "uls.h"

#define IPC_MSG_BYTES 4

struct ipc_state {
	int req[2], rsp[2];
	char *ws;                 /* the peer's working set */
	size_t ws_pages;
	bool process, peer_started;
	pthread_t tid;
	pid_t pid;
	volatile uint64_t sink;
};

static int read_msg(int fd, uint32_t *msg)
{
	ssize_t r;

	do
		r = read(fd, msg, IPC_MSG_BYTES);
	while (r < 0 && errno == EINTR);
	return r == IPC_MSG_BYTES ? 0 : r == 0 ? EPIPE : r < 0 ? errno : EIO;
}

static int write_msg(int fd, uint32_t msg)
{
	ssize_t w;

	do
		w = write(fd, &msg, IPC_MSG_BYTES);
	while (w < 0 && errno == EINTR);
	return w == IPC_MSG_BYTES ? 0 : w < 0 ? errno : EIO;
}

/* Answer each message after touching the working set; EOF ends it. */
static int ipc_peer_loop(struct ipc_state *st)
{
	uint32_t msg;

	while (read_msg(st->req[0], &msg) == 0) {
		uint64_t sum = 0;
		for (size_t i = 0; i < st->ws_pages; i++)
			sum += *(volatile const uint64_t *)(st->ws + i * SANDBOX_PAGE_BYTES);
		st->sink += sum;
		if (write_msg(st->rsp[1], msg + 1) != 0)
			return 1;
	}
	return 0;
}

static void *ipc_peer_thread(void *arg)
{
	ipc_peer_loop(arg);
	return NULL;
}

static int ipc_peer_process(void *arg)
{
	struct ipc_state *st = arg;

	close(st->req[1]);   /* main closing its end must read as EOF here */
	close(st->rsp[0]);
	return ipc_peer_loop(st);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void uls_ipc_teardown(struct mech_ctx *ctx)
{
	struct ipc_state *st = ctx->priv;

	if (!st)
		return;
	close_fd(&st->req[1]);   /* the peer reads EOF and returns */
	if (st->peer_started) {
		if (st->process)
			peer_process_reap(st->pid, PEER_REAP_TIMEOUT_MS);
		else
			pthread_join(st->tid, NULL);
		st->peer_started = false;
	}
	close_fd(&st->req[0]);
	close_fd(&st->rsp[0]);
	close_fd(&st->rsp[1]);
	if (st->ws)
		munmap(st->ws, st->ws_pages * SANDBOX_PAGE_BYTES);
	free(st);
	ctx->priv = NULL;
}

static void report_pcid(struct mech_ctx *ctx)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	const char *has = "unknown";

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "flags", 5) == 0) {
			has = strstr(line, " pcid") ? "yes: address-space switches keep tagged TLB entries" : "no";
			break;
		}
	fclose(f);
	report_kv(ctx->report, "pcid", "%s", has);
}

static int start_peer(struct mech_ctx *ctx, struct ipc_state *st)
{
	const struct uls_cfg *cfg = ctx->cfg;
	int peer_cpu;
	int rc = placement_apply(ctx, cfg->ipc_placement, &peer_cpu);

	if (rc != BENCH_OK)
		return rc;
	struct mech_ctx pctx = *ctx;
	pctx.peer_cpu = peer_cpu;
	int err = st->process ? peer_process_start(&pctx, &st->pid, ipc_peer_process, st)
			      : peer_thread_start(&pctx, &st->tid, ipc_peer_thread, st);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "starting the peer: %s", strerror(err));
	st->peer_started = true;
	if (st->process) {
		close_fd(&st->req[0]);
		close_fd(&st->rsp[1]);   /* a dead peer reads as EOF here */
	}
	return BENCH_OK;
}

int uls_ipc_probe(struct mech_ctx *ctx)
{
	const struct uls_cfg *cfg = ctx->cfg;

	if (cfg->ipc_placement == PLACE_SPLIT && (ctx->peer_cpu < 0 || ctx->peer_cpu == ctx->cpu))
		return mech_why(ctx, BENCH_SKIP, "ipc_placement \"split\" needs a peer CPU other than %d", ctx->cpu);
	return BENCH_OK;
}

/* The peer is a thread (ipc-thread) or a forked process (ipc-process). */
static int ipc_setup(struct mech_ctx *ctx, bool process)
{
	const struct uls_cfg *cfg = ctx->cfg;
	struct ipc_state *st = calloc(1, sizeof(*st));

	if (!st)
		return mech_why(ctx, BENCH_FAIL, "out of memory");
	ctx->priv = st;
	st->req[0] = st->req[1] = st->rsp[0] = st->rsp[1] = -1;
	st->process = process;
	st->ws_pages = (size_t)cfg->working_set_pages;
	size_t bytes = (st->ws_pages ? st->ws_pages : 1) * SANDBOX_PAGE_BYTES;
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return mech_why_errno(ctx, BENCH_FAIL, "mmap of the working set");
	st->ws = p;
	memset(st->ws, 1, bytes);
	if (pipe2(st->req, O_CLOEXEC) != 0 || pipe2(st->rsp, O_CLOEXEC) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "pipe2");
	report_pcid(ctx);
	report_kv(ctx->report, "ipc", "messages over pipes; the peer reads one line in each of its working-set pages");
	report_int(ctx->report, "ipc_message_bytes", IPC_MSG_BYTES, "bytes");
	report_int(ctx->report, "ipc_peer_pages", (int64_t)st->ws_pages, "pages");
	return start_peer(ctx, st);
}

int uls_ipc_thread_setup(struct mech_ctx *ctx)
{
	return ipc_setup(ctx, false);
}

int uls_ipc_process_setup(struct mech_ctx *ctx)
{
	return ipc_setup(ctx, true);
}

int uls_ipc_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct ipc_state *st = ctx->priv;
	uint32_t msg = 0, reply;

	while (!samples_full(s)) {
		uint64_t t0 = tsc_start();
		int err = write_msg(st->req[1], msg);
		if (!err)
			err = read_msg(st->rsp[0], &reply);
		uint64_t t1 = tsc_end();
		if (err)
			return mech_why(ctx, BENCH_FAIL, "message exchange: %s", strerror(err));
		if (reply != msg + 1)
			return mech_why(ctx, BENCH_FAIL, "reply %u to message %u", reply, msg);
		msg++;
		samples_add(s, t1 - t0);
	}
	return BENCH_OK;
}
