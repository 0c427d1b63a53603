/*
 * packet-stream: UDP streams at a set rate and packet size, paced from
 * absolute send times (pacing.h), from a sender process in its own network
 * namespace over veth to the case's (private) namespace (netns.h).
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
#include <sched.h>
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
/*
 * Longer than PEER_READY_TIMEOUT_MS on purpose: creating a network namespace
 * and a veth pair can take seconds on a busy machine.
 */
#define PS_READY_MS 20000
#define PS_SLEEP_MIN_NS 20000
#define PS_CARRIER_WAIT_US 50000

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

enum ps_net { PS_NET_VETH, PS_NET_LOOPBACK_PRIVATE, PS_NET_LOOPBACK_HOST };

struct ps_shared {
	_Atomic int stop, unshared, go, ready, failed;
	uint64_t sent, missed, send_errors;
	int64_t start_ns, end_ns;
};

/*
 * The load's state, in ctx->priv. The sender process works on its own copy
 * from the fork (its buffers and destinations included); only *sh is shared.
 */
struct ps_state {
	struct ps_shared *sh;
	struct ps_cfg cfg;
	pid_t sender;
	int net;             /* enum ps_net */
	char why[160];       /* why not veth */
	struct sockaddr_in dst[PS_MAX_STREAMS];             /* the sender's, stream i to port + i */
	unsigned char payload[PS_BURST][PS_MAX_SIZE];       /* the sender's buffers, filled before sending */
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
		msgs[j].msg_hdr.msg_namelen = sizeof(ps->dst[0]);
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
				msgs[j].msg_hdr.msg_name = &ps->dst[p.stream];
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
	const char *dst_addr = ps->net == PS_NET_VETH ? PS_RECEIVER_ADDR : "127.0.0.1";

	if (ps->net == PS_NET_VETH) {
		if (unshare(CLONE_NEWNET) != 0 || ps_loopback_up() != 0) {
			atomic_store(&sh->failed, errno ? errno : EIO);
			return 1;
		}
		atomic_store(&sh->unshared, 1);
		while (atomic_load(&sh->go) == 0)
			usleep(1000);
		if (atomic_load(&sh->go) < 0 || ps_veth_configure_sender() != 0) {
			atomic_store(&sh->failed, ENODEV);
			return 1;
		}
		usleep(PS_CARRIER_WAIT_US);   /* the pair's carrier comes up asynchronously */
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		atomic_store(&sh->failed, errno);
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

/* Put the case process in its own network namespace and pick the network. */
static void choose_network(struct ps_state *ps)
{
	ps->net = PS_NET_LOOPBACK_HOST;
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(ps->why, sizeof(ps->why), "unshare(CLONE_NEWNET): %s; host loopback", strerror(errno));
		return;
	}
	int err = ps_loopback_up();
	if (err) {
		snprintf(ps->why, sizeof(ps->why), "bringing up lo in the private namespace: %s", strerror(err));
		return;
	}
	ps->net = PS_NET_LOOPBACK_PRIVATE;
	if (ps_veth_create() != 0) {
		snprintf(ps->why, sizeof(ps->why), "`ip link add ... type veth` failed; loopback in a private namespace");
		return;
	}
	ps->net = PS_NET_VETH;
}

/* Wall-clock bound: creating a network namespace can take seconds on a busy machine. */
static int wait_flag(_Atomic int *flag, struct ps_shared *sh)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (atomic_load(flag))
			return 0;
		if (atomic_load(&sh->failed))
			return atomic_load(&sh->failed);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > PS_READY_MS)
			return ETIMEDOUT;
		usleep(1000);
	}
}

static int ps_start(struct load_ctx *ctx)
{
	struct ps_state *ps = ctx->priv;
	ps->cfg = *(const struct ps_cfg *)ctx->cfg;
	ps->sh = peer_shared_alloc(sizeof(*ps->sh));
	if (!ps->sh)
		return load_why(ctx, BENCH_FAIL, "shared page: %s", strerror(errno));
	choose_network(ps);

	struct mech_ctx pctx = { .peer_cpu = ctx->cpu, .priority = (int)ps->cfg.priority, .mlock = true };
	int err = peer_process_start(&pctx, &ps->sender, sender_main, ps);
	if (err)
		return load_why(ctx, BENCH_FAIL, "starting the sender: %s", strerror(err));
	if (ps->net == PS_NET_VETH) {
		err = wait_flag(&ps->sh->unshared, ps->sh);
		int moved = err ? -1 : ps_veth_hand_over(ps->sender);
		atomic_store(&ps->sh->go, moved == 0 ? 1 : -1);
		if (err || moved)
			return load_why(ctx, BENCH_FAIL, "veth to the sender's namespace: %s",
					err ? strerror(err) : "`ip link set ... netns` failed");
	}
	err = wait_flag(&ps->sh->ready, ps->sh);
	if (err)
		return load_why(ctx, BENCH_FAIL, "the sender did not start: %s", strerror(err));
	report_kv(ctx->report, "network", "%s%s%s",
		  ps->net == PS_NET_VETH ? "veth " PS_SENDER_ADDR " -> " PS_RECEIVER_ADDR ", both ends in private namespaces"
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
	if (ps->net == PS_NET_VETH) {
		const char *const del[] = { "ip", "link", "del", PS_VETH_CASE, NULL };
		ps_run_ip(del);   /* usually gone already: the sender's namespace died with it */
	}
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
