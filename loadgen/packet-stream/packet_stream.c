/*
 * packet-stream: UDP streams at a set rate and packet size, paced from
 * absolute send times (pacing.h), from a sender process in its own network
 * namespace over veth to the case's (private) namespace (bench/sdk/netns.h).
 * Stream i goes to port `port` + i. Each packet carries the sender's TSC at
 * the send, its sequence number and its stream (the first 16 bytes).
 *
 * stop() reports what was achieved: packets sent, missed (skipped because
 * already more than late_us behind), send errors, the achieved rate, and the
 * network used (veth, or loopback and why).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "netns.h"
#include "pacing.h"
#include "peer.h"

#define PS_MAX_STREAMS 16
#define PS_MAX_SIZE 1472
#define PS_BURST 64
#define PS_SLEEP_MIN_NS 20000

struct ps_cfg {
	int64_t rate;
	int64_t size;
	int64_t streams;
	int64_t port;
	int64_t late_us;
	int64_t priority;
};

static const struct opt_desc ps_opts[] = {
	OPT_INT_FIELD(struct ps_cfg, rate, "42000", 1, 1000000, "packets/s", "packets per second per stream (paper: 42,000)"),
	OPT_INT_FIELD(struct ps_cfg, size, "16", 16, PS_MAX_SIZE, "bytes", "UDP payload bytes (paper: 16)"),
	OPT_INT_FIELD(struct ps_cfg, streams, "4", 1, PS_MAX_STREAMS, "streams", "streams; stream i goes to port + i"),
	OPT_INT_FIELD(struct ps_cfg, port, "47000", 1024, 65000, "", "destination port of stream 0"),
	OPT_INT_FIELD(struct ps_cfg, late_us, "1000", 1, 1000000, "us",
		      "a packet this late when its turn comes is skipped and counted as missed"),
	OPT_INT_FIELD(struct ps_cfg, priority, "60", 0, 99, "", "sender's SCHED_FIFO priority (0 = SCHED_OTHER)"),
	OPT_TABLE_END,
};

struct ps_packet {   /* the first 16 bytes of every payload */
	uint64_t send_tsc;
	uint32_t seq;
	uint32_t stream;
};

struct ps_shared {
	struct netns_sync sync;   /* sync.failed: an errno of the sender's */
	_Atomic int stop, ready;
	uint64_t sent, missed, send_errors;
	int64_t start_ns, end_ns;
};

/* The load's state: ctx->priv (the sender process works on its copy after fork). */
struct ps_state {
	struct ps_shared *sh;
	struct ps_cfg cfg;
	pid_t sender;
	enum netns_net net;
	char why[160];       /* why not veth */
	unsigned char payload[PS_BURST][PS_MAX_SIZE];   /* the sender's buffers, filled before sending */
	struct sockaddr_in dst[PS_MAX_STREAMS];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until(int64_t t_ns)
{
	struct timespec ts = { .tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void send_loop(struct ps_state *ps, int fd)
{
	struct ps_shared *sh = ps->sh;
	const struct sockaddr_in *dst = ps->dst;
	const uint64_t streams = (uint64_t)ps->cfg.streams, total_rate = (uint64_t)ps->cfg.rate * streams;
	const uint64_t late_ns = (uint64_t)ps->cfg.late_us * 1000;
	struct mmsghdr msgs[PS_BURST];
	struct iovec iov[PS_BURST];
	uint64_t k = 0;

	memset(msgs, 0, sizeof(msgs));
	for (int j = 0; j < PS_BURST; j++) {
		iov[j] = (struct iovec){ .iov_base = ps->payload[j], .iov_len = (size_t)ps->cfg.size };
		msgs[j].msg_hdr.msg_iov = &iov[j];
		msgs[j].msg_hdr.msg_iovlen = 1;
		msgs[j].msg_hdr.msg_namelen = sizeof(dst[0]);
	}
	sh->start_ns = now_ns();
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		uint64_t elapsed = (uint64_t)(now_ns() - sh->start_ns);
		uint64_t first = ps_first_on_time(k, elapsed, late_ns, total_rate);
		sh->missed += first - k;
		k = first;
		uint64_t due = ps_due(elapsed, total_rate);
		while (k < due) {
			unsigned n = due - k < PS_BURST ? (unsigned)(due - k) : PS_BURST;
			for (unsigned j = 0; j < n; j++) {
				struct ps_packet p = { .send_tsc = tsc_start(), .seq = (uint32_t)(k + j),
						       .stream = ps_stream_of(k + j, (unsigned)streams) };
				memcpy(ps->payload[j], &p, sizeof(p));
				msgs[j].msg_hdr.msg_name = (void *)&dst[p.stream];
			}
			int r = sendmmsg(fd, msgs, n, 0);
			if (r < 0) {
				sh->send_errors += n;   /* ENOBUFS, ECONNREFUSED before a receiver binds: dropped */
				r = (int)n;
			} else {
				sh->sent += (unsigned)r;
				sh->send_errors += n - (unsigned)r;
			}
			k += n;
		}
		int64_t next = sh->start_ns + (int64_t)ps_send_offset_ns(k, total_rate);
		if (next - now_ns() > PS_SLEEP_MIN_NS)
			sleep_until(next);
	}
	sh->end_ns = now_ns();
}

static int sender_main(void *arg)
{
	struct ps_state *ps = arg;
	struct ps_shared *sh = ps->sh;
	const char *dst_addr = ps->net == NETNS_VETH ? NETNS_CASE_ADDR : "127.0.0.1";

	if (ps->net == NETNS_VETH && netns_sender_join(&sh->sync) != 0)
		return 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		atomic_store(&sh->sync.failed, errno);
		return 1;
	}
	for (int i = 0; i < ps->cfg.streams; i++) {
		ps->dst[i] = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)(ps->cfg.port + i)) };
		inet_pton(AF_INET, dst_addr, &ps->dst[i].sin_addr);
	}
	atomic_store(&sh->ready, 1);
	send_loop(ps, fd);
	close(fd);
	return 0;
}

static int ps_start(struct load_ctx *ctx)
{
	struct ps_state *ps = ctx->priv;
	ps->cfg = *(const struct ps_cfg *)ctx->cfg;
	ps->sh = peer_shared_alloc(sizeof(*ps->sh));
	if (!ps->sh)
		return load_why(ctx, BENCH_FAIL, "shared page: %s", strerror(errno));
	ps->net = netns_case_enter(ps->why, sizeof(ps->why));

	struct mech_ctx pctx = { .peer_cpu = ctx->cpu, .priority = (int)ps->cfg.priority, .mlock = true };
	int err = peer_process_start(&pctx, &ps->sender, sender_main, ps);
	if (err)
		return load_why(ctx, BENCH_FAIL, "starting the sender: %s", strerror(err));
	char why[160];
	if (ps->net == NETNS_VETH && netns_case_hand_over(&ps->sh->sync, ps->sender, why, sizeof(why)) != 0)
		return load_why(ctx, BENCH_FAIL, "veth to the sender's namespace: %s", why);
	err = netns_wait_flag(&ps->sh->ready, &ps->sh->sync.failed);
	if (err)
		return load_why(ctx, BENCH_FAIL, "the sender did not start: %s", strerror(err));
	report_kv(ctx->report, "network", "%s%s%s",
		  ps->net == NETNS_VETH ? "veth " NETNS_SENDER_ADDR " -> " NETNS_CASE_ADDR ", both ends in private namespaces"
					: "loopback",
		  ps->why[0] ? ": " : "", ps->why);
	report_int(ctx->report, "streams", ps->cfg.streams, "streams");
	report_int(ctx->report, "requested_rate_per_stream", ps->cfg.rate, "packets/s");
	report_int(ctx->report, "payload_bytes", ps->cfg.size, "bytes");
	report_int(ctx->report, "first_port", ps->cfg.port, "");
	report_int(ctx->report, "sender_cpu", ctx->cpu, "");
	return BENCH_OK;
}

static int ps_stop(struct load_ctx *ctx)
{
	struct ps_state *ps = ctx->priv;
	if (!ps->sh)
		return BENCH_OK;
	atomic_store(&ps->sh->stop, 1);
	int status = ps->sender > 0 ? peer_process_reap(ps->sender, PEER_REAP_TIMEOUT_MS) : 0;
	ps->sender = 0;
	double secs = (double)(ps->sh->end_ns - ps->sh->start_ns) / 1e9;
	report_int(ctx->report, "sent", (int64_t)ps->sh->sent, "packets");
	/* skipped: more than late_us behind when their turn came */
	report_int(ctx->report, "missed_sends", (int64_t)ps->sh->missed, "packets");
	report_int(ctx->report, "send_errors", (int64_t)ps->sh->send_errors, "packets");
	report_real(ctx->report, "achieved_rate_per_stream",
		    secs > 0 ? (double)ps->sh->sent / secs / (double)ps->cfg.streams : 0.0, "packets/s");
	report_real(ctx->report, "send_s", secs, "s");
	if (ps->net == NETNS_VETH)
		netns_veth_delete();
	peer_shared_free(ps->sh, sizeof(*ps->sh));
	ps->sh = NULL;
	if (status != 0)
		return load_why(ctx, BENCH_FAIL, "the sender exited with status %d", status);
	return BENCH_OK;
}

static const struct loadgen_ops ps_ops = {
	.name = "packet-stream",
	.abi_version = LOADGEN_ABI_VERSION,
	.flags = MECH_NEEDS_ROOT,
	.help = "UDP streams at a set rate and size, paced from absolute send times, over veth from a private "
		"network namespace (loopback fallback)",
	.opts = ps_opts,
	.cfg_size = sizeof(struct ps_cfg),
	.priv_size = sizeof(struct ps_state),
	.start = ps_start,
	.stop = ps_stop,
};
LOADGEN_REGISTER(ps_ops)
