/*
 * Table III, I/O response time, on the Linux side: udp-response and
 * tun-response (see hijackcos.c for the mapping to the paper).
 *
 * The paper's method, reproduced: on the measuring CPU a medium-priority
 * SCHED_FIFO thread (the spinner) reads the TSC in a tight loop and stores
 * it in a shared variable; the measuring thread, at the case's higher
 * priority on the same CPU, blocks for a packet. When the packet's interrupt
 * arrives the spinner stops where it is; the kernel's receive path runs, the
 * receiver is woken, preempts the spinner and reads the TSC: now - the
 * spinner's last reading = the time from the interrupt to the delivery of
 * the packet to the high-priority thread (one sample, TSC cycles of one CPU).
 * The receiver then answers (the reply is not in the sample; its time to
 * the reply's send is a fact).
 *
 * The packet's interrupt: a sender process on peer_cpu, in its own network
 * namespace, sends each 16-byte packet over the veth pair. With steer_rx
 * (RPS on the case's end of the veth) the receive processing is queued to
 * the measuring CPU, which the sender's CPU raises by an inter-processor
 * interrupt: that interrupt preempts the spinner and the whole receive path
 * (softirq, IP, UDP or forwarding to the TUN device, the wake-up) runs there,
 * as a NIC interrupt on the paper's machine did. Without it the receive
 * path runs on the sender's CPU and only the wake-up interrupts the spinner.
 * "rps_ipis" (received_rps of /proc/net/softnet_stat on the measuring CPU)
 * says how many such interrupts came.
 *
 * One packet at a time at a low rate (the paper: no nested interrupts): the
 * sender waits for each reply, then interval_us. After each reply the
 * spinner rests interval_us / 4 (so SCHED_FIFO throttling never stops it
 * mid-run) and is spinning again well before the next packet; a packet that
 * finds it resting, or not yet run since the previous packet, gives no
 * sample and is counted ("not_spinning").
 *
 * Sequence numbers: the receiver counts gaps, the sender replies missing;
 * the receiver tells the sender to stop before its last reply, so packets
 * sent = received = replies on a clean run.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aos_host.h"
#include "hijackcos.h"
#include "packet.h"

#define TUN_NAME "hjcos0"
#define TUN_NET "10.214.0.0/24"
#define TUN_PEER_ADDR "10.214.0.2"   /* beyond the TUN device: where the tun path's packets go */
#define REPLY_WAIT_MS 100
/* The sender gives up after this long without a reply: exit status 3 ends the case. */
#define SENDER_STALL_MS 2000
#define SENDER_STALL_STATUS 3
#define SPINNER_READY_MS 2000

/* Memory shared with the sender process. */
struct hjc_shared {
	struct netns_sync sync;
	_Atomic int ready, start, stop;
	_Atomic uint64_t sent, replies, reply_timeouts, late_replies, send_errors;
};

/* What differs between the paths: a const row each, known to its setup. */
struct hjc_path {
	const char *name;
	const char *dst_addr;      /* where the sender sends on the veth */
	int (*open_receiver)(struct mech_ctx *ctx, struct hjc_state *st);
	/* Block for one packet; *woke_tsc is read as soon as the call returns. Bytes, or -1 with errno. */
	ssize_t (*wait_packet)(struct hjc_state *st, uint64_t *woke_tsc);
	/* The packet is ours: its seq, and the reply prepared; 0, or -1 when it is not ours. */
	int (*accept)(struct hjc_state *st, size_t len, uint32_t *seq);
	/* Send the reply: 0, or -1 with errno. */
	int (*reply)(struct hjc_state *st, size_t len);
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec req = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &req) == EINTR)
		;
}

/* ---- the spinner ---- */

static int spinner_main(void *arg)
{
	struct hjc_spin *sp = arg;
	atomic_store(&sp->last_tsc, __rdtsc());
	atomic_store(&sp->spinning, 1);
	atomic_store(&sp->ready, 1);
	while (!atomic_load_explicit(&sp->stop, memory_order_relaxed)) {
		if (atomic_load_explicit(&sp->rest, memory_order_relaxed)) {
			atomic_store(&sp->spinning, 0);
			atomic_store(&sp->rest, 0);
			sleep_ns(sp->rest_ns);
			/* a fresh reading before spinning counts again */
			atomic_store_explicit(&sp->last_tsc, __rdtsc(), memory_order_relaxed);
			atomic_store(&sp->spinning, 1);
			continue;
		}
		atomic_store_explicit(&sp->last_tsc, __rdtsc(), memory_order_relaxed);
	}
	return 0;
}

/* ---- the sender process ---- */

/* After a send: wait for the reply carrying seq. 1 when it came, 0 on timeout, -1 on error. */
static int await_reply(struct hjc_shared *sh, int fd, uint32_t seq)
{
	int64_t until = mono_ms() + REPLY_WAIT_MS;
	for (;;) {
		int left = (int)(until - mono_ms());
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		struct hjc_msg m;
		ssize_t n = recv(fd, &m, sizeof(m), MSG_DONTWAIT);
		if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
			return -1;
		if (n != (ssize_t)sizeof(m) || m.magic != HJC_MAGIC)
			continue;
		if (m.seq == seq)
			return 1;
		atomic_fetch_add(&sh->late_replies, 1);   /* the reply of a packet already given up */
	}
}

static int sender_loop(struct hjc_state *st, int fd)
{
	struct hjc_shared *sh = st->sh;
	const uint64_t gap_ns = (uint64_t)st->cfg.interval_us * 1000u;
	int64_t last_reply_ms = mono_ms();
	for (uint32_t seq = 0; !atomic_load(&sh->stop); seq++) {
		struct hjc_msg m = { .magic = HJC_MAGIC, .seq = seq, .send_tsc = __rdtsc() };
		if (send(fd, &m, sizeof(m), 0) != (ssize_t)sizeof(m)) {
			atomic_fetch_add(&sh->send_errors, 1);
		} else {
			atomic_fetch_add(&sh->sent, 1);
			int r = await_reply(sh, fd, seq);
			if (r < 0)
				return 1;
			if (r > 0) {
				atomic_fetch_add(&sh->replies, 1);
				last_reply_ms = mono_ms();
			} else {
				atomic_fetch_add(&sh->reply_timeouts, 1);
			}
		}
		if (mono_ms() - last_reply_ms > SENDER_STALL_MS)
			return SENDER_STALL_STATUS;
		if (!atomic_load(&sh->stop))
			sleep_ns(gap_ns);
	}
	return 0;
}

static int sender_main(void *arg)
{
	struct hjc_state *st = arg;   /* the sender's own copy since the fork; st->sh is shared */
	struct hjc_shared *sh = st->sh;
	const char *dst_addr = st->net == NETNS_VETH ? st->path->dst_addr : "127.0.0.1";

	if (st->net == NETNS_VETH) {
		if (netns_sender_join(&sh->sync) != 0)
			return 1;
		const char *const route[] = { "ip", "route", "add", TUN_NET, "via", NETNS_CASE_ADDR, "dev",
					      NETNS_VETH_SENDER, NULL };
		if (strcmp(dst_addr, TUN_PEER_ADDR) == 0 && netns_run_ip(route) != 0) {
			atomic_store(&sh->sync.failed, ENETUNREACH);
			return 1;
		}
	}
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)st->cfg.port) };
	inet_pton(AF_INET, dst_addr, &dst.sin_addr);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&dst, sizeof(dst)) != 0) {
		atomic_store(&sh->sync.failed, errno ? errno : EIO);
		return 1;
	}
	atomic_store(&sh->ready, 1);
	while (!atomic_load(&sh->start) && !atomic_load(&sh->stop))
		usleep(1000);
	int rc = sender_loop(st, fd);
	close(fd);
	return rc;
}

/* ---- the UDP socket path ---- */

static int udp_open(struct mech_ctx *ctx, struct hjc_state *st)
{
	st->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (st->fd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "socket(AF_INET, SOCK_DGRAM)");
	st->have_fd = true;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)st->cfg.port) };
	inet_pton(AF_INET, st->net == NETNS_VETH ? NETNS_CASE_ADDR : "127.0.0.1", &a.sin_addr);
	if (bind(st->fd, (const struct sockaddr *)&a, sizeof(a)) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "bind to port %lld", (long long)st->cfg.port);
	report_kv(ctx->report, "receiver", "UDP socket bound to %s:%lld, blocking recvfrom",
		  st->net == NETNS_VETH ? NETNS_CASE_ADDR : "127.0.0.1", (long long)st->cfg.port);
	return BENCH_OK;
}

static ssize_t udp_wait(struct hjc_state *st, uint64_t *woke_tsc)
{
	socklen_t alen = sizeof(st->from);
	ssize_t n = recvfrom(st->fd, st->buf, sizeof(st->buf), 0, (struct sockaddr *)&st->from, &alen);
	*woke_tsc = tsc_start();
	return n;
}

static int udp_accept(struct hjc_state *st, size_t len, uint32_t *seq)
{
	struct hjc_msg m;
	if (len != sizeof(m))
		return -1;
	memcpy(&m, st->buf, sizeof(m));
	if (m.magic != HJC_MAGIC)
		return -1;
	*seq = m.seq;
	return 0;
}

static int udp_reply(struct hjc_state *st, size_t len)
{
	ssize_t w = sendto(st->fd, st->buf, len, 0, (const struct sockaddr *)&st->from, sizeof(st->from));
	return w == (ssize_t)len ? 0 : -1;
}

/* ---- the TUN path ---- */

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ssize_t w = write(fd, text, strlen(text));
	int err = w == (ssize_t)strlen(text) ? 0 : (w < 0 ? errno : EIO);
	close(fd);
	return err;
}

/*
 * In the case's namespace: a TUN device (gone when its file is closed or
 * the case dies), the TUN network routed to it, forwarding on, so a packet
 * from the veth to TUN_PEER_ADDR leaves through the device to the reader.
 */
static int tun_open(struct mech_ctx *ctx, struct hjc_state *st)
{
	st->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (st->fd < 0)
		return mech_why_errno(ctx, BENCH_SKIP, "open /dev/net/tun");
	st->have_fd = true;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TUN_NAME);
	if (ioctl(st->fd, TUNSETIFF, &ifr) != 0)
		return mech_why_errno(ctx, BENCH_SKIP, "TUNSETIFF %s (needs CAP_NET_ADMIN)", TUN_NAME);
	netns_disable_ipv6(TUN_NAME);
	const char *const up[] = { "ip", "link", "set", TUN_NAME, "up", NULL };
	const char *const route[] = { "ip", "route", "add", TUN_NET, "dev", TUN_NAME, NULL };
	if (netns_run_ip(up) != 0 || netns_run_ip(route) != 0)
		return mech_why(ctx, BENCH_FAIL, "`ip link set %s up` or `ip route add %s dev %s` failed", TUN_NAME,
				TUN_NET, TUN_NAME);
	st->tun_up = true;
	int err = write_text("/proc/sys/net/ipv4/ip_forward", "1");   /* the case's namespace only */
	if (err) {
		errno = err;
		return mech_why_errno(ctx, BENCH_FAIL, "net.ipv4.ip_forward = 1 in the case's namespace");
	}
	report_kv(ctx->report, "receiver", "TUN %s (IFF_TUN|IFF_NO_PI), blocking read; packets to %s forwarded "
		  "from %s to it, replies written back", TUN_NAME, TUN_PEER_ADDR, NETNS_VETH_CASE);
	return BENCH_OK;
}

static ssize_t tun_wait(struct hjc_state *st, uint64_t *woke_tsc)
{
	ssize_t n = read(st->fd, st->buf, sizeof(st->buf));
	*woke_tsc = tsc_start();
	return n;
}

static int tun_accept(struct hjc_state *st, size_t len, uint32_t *seq)
{
	return hjc_udp_reflect(st->buf, len, (uint16_t)st->cfg.port, seq);
}

static int tun_reply(struct hjc_state *st, size_t len)
{
	ssize_t w = write(st->fd, st->buf, len);
	return w == (ssize_t)len ? 0 : -1;
}

static const struct hjc_path udp_path = {
	.name = "udp", .dst_addr = NETNS_CASE_ADDR,
	.open_receiver = udp_open, .wait_packet = udp_wait, .accept = udp_accept, .reply = udp_reply,
};

static const struct hjc_path tun_path = {
	.name = "tun", .dst_addr = TUN_PEER_ADDR,
	.open_receiver = tun_open, .wait_packet = tun_wait, .accept = tun_accept, .reply = tun_reply,
};

/* AOS via cosnet (aos_cosnet.c): the TUN device's packets, read by the VMM's I/O thread, answered by the AOS. */
static int cosnet_open(struct mech_ctx *ctx, struct hjc_state *st)
{
	int rc = tun_open(ctx, st);
	return rc == BENCH_OK ? aos_cosnet_open(ctx, st) : rc;
}

static const struct hjc_path cosnet_path = {
	.name = "cosnet", .dst_addr = TUN_PEER_ADDR,
	.open_receiver = cosnet_open, .wait_packet = aos_cosnet_wait, .accept = aos_cosnet_accept, .reply = tun_reply,
};

/* AOS via the translator (aos_cosnet.c): a forwarder process reads the TUN device and uses the translator. */
static int fwd_open(struct mech_ctx *ctx, struct hjc_state *st)
{
	int rc = tun_open(ctx, st);
	return rc == BENCH_OK ? aos_fwd_open(ctx, st) : rc;
}

static const struct hjc_path fwd_path = {
	.name = "translator", .dst_addr = TUN_PEER_ADDR,
	.open_receiver = fwd_open, .wait_packet = aos_fwd_wait, .accept = aos_cosnet_accept, .reply = aos_fwd_reply,
};

/* ---- the experiment ---- */

/* received_rps of cpu in /proc/net/softnet_stat (inter-processor interrupts for RPS). 0 when unknown. */
static uint64_t rps_ipis(int cpu)
{
	FILE *f = fopen("/proc/net/softnet_stat", "re");
	if (!f)
		return 0;
	char line[512];
	uint64_t found = 0;
	for (int row = 0; fgets(line, sizeof(line), f); row++) {
		unsigned long long col[16];
		int n = 0;
		char *p = line, *end;
		while (n < 16) {
			col[n] = strtoull(p, &end, 16);
			if (end == p)
				break;
			n++;
			p = end;
		}
		int this_cpu = n >= 13 ? (int)col[12] : row;   /* column 13: the CPU, since Linux 5.10 */
		if (n >= 10 && this_cpu == cpu) {
			found = col[9];
			break;
		}
	}
	fclose(f);
	return found;
}

static int64_t read_int_file(const char *path)
{
	FILE *f = fopen(path, "re");
	long long v = -1;
	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

int hjc_response_probe(struct mech_ctx *ctx)
{
	const struct hjc_cfg *cfg = ctx->cfg;
	if (ctx->cpu < 0)
		return mech_why(ctx, BENCH_SKIP, "the spinner and the receiver share one CPU: set cpu");
	if (ctx->priority <= cfg->spinner_priority)
		return mech_why(ctx, BENCH_SKIP,
				"the paper's method needs the receiver's SCHED_FIFO priority above the spinner's "
				"(spinner_priority %lld): set priority > %lld",
				(long long)cfg->spinner_priority, (long long)cfg->spinner_priority);
	return BENCH_OK;
}

static int wait_spinner(struct mech_ctx *ctx, struct hjc_spin *sp)
{
	int64_t until = mono_ms() + SPINNER_READY_MS;
	while (!atomic_load(&sp->ready)) {
		if (mono_ms() > until)
			return mech_why(ctx, BENCH_FAIL, "the spinner did not start in %d ms", SPINNER_READY_MS);
		usleep(1000);   /* sleeping: the spinner runs on this CPU below us */
	}
	return BENCH_OK;
}

static int response_setup(struct mech_ctx *ctx, const struct hjc_path *path)
{
	struct hjc_state *st = ctx->priv;
	st->path = path;
	st->cfg = *(const struct hjc_cfg *)ctx->cfg;
	st->rps_cpu = -1;
	st->sh = peer_shared_alloc(sizeof(*st->sh));
	if (!st->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared page");

	st->net = netns_case_enter(st->net_why, sizeof(st->net_why));
	if (path != &udp_path && st->net != NETNS_VETH)
		return mech_why(ctx, BENCH_SKIP, "the TUN path needs private network namespaces and a veth "
			       "(root / CAP_NET_ADMIN): %s", st->net_why);
	int rc = peer_start_or_fail(ctx, &st->sender, true, ctx->peer_cpu, sender_main, st);
	if (rc != BENCH_OK)
		return rc;
	char why[160];
	if (st->net == NETNS_VETH && netns_case_hand_over(&st->sh->sync, st->sender.pid, why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_FAIL, "veth to the sender's namespace: %s", why);
	/* the case's address exists now; the sender sends nothing before measure() */
	rc = path->open_receiver(ctx, st);
	if (rc != BENCH_OK)
		return rc;
	int err = netns_wait_flag(&st->sh->ready, &st->sh->sync.failed);
	if (err) {
		errno = err;
		return mech_why_errno(ctx, BENCH_FAIL, "the sender did not start");
	}

	if (!st->cfg.steer_rx)
		report_kv(ctx->report, "rx_steering", "off (steer_rx = false): receive processing on the sender's CPU");
	else if (st->net != NETNS_VETH)
		report_kv(ctx->report, "rx_steering", "off: no veth of our own to steer (%s)", st->net_why);
	else if ((err = netns_veth_steer_rx(ctx->cpu)) != 0)
		report_kv(ctx->report, "rx_steering", "off: RPS on %s failed: %s", NETNS_VETH_CASE, strerror(err));
	else
		st->rps_cpu = ctx->cpu;
	if (st->rps_cpu >= 0)
		report_kv(ctx->report, "rx_steering", "RPS of %s onto CPU %d: the packet's interrupt and its receive "
			  "processing on the receiver's CPU", NETNS_VETH_CASE, st->rps_cpu);
	report_int(ctx->report, "rps_cpu", st->rps_cpu, "");

	struct mech_ctx spin_ctx = *ctx;
	spin_ctx.priority = (int)st->cfg.spinner_priority;
	st->spin.rest_ns = (uint64_t)st->cfg.interval_us * 1000u / 4;
	rc = peer_start_or_fail(&spin_ctx, &st->spinner, false, ctx->cpu, spinner_main, &st->spin);
	if (rc == BENCH_OK)
		rc = wait_spinner(ctx, &st->spin);
	if (rc != BENCH_OK)
		return rc;

	report_kv(ctx->report, "network", "%s%s%s",
		  st->net == NETNS_VETH ? "veth " NETNS_SENDER_ADDR " -> " NETNS_CASE_ADDR ", sender and case each in a "
					  "private network namespace"
		  : st->net == NETNS_LOOPBACK_PRIVATE ? "loopback in the case's private namespace"
						      : "host loopback",
		  st->net_why[0] ? ": " : "", st->net_why);
	report_int(ctx->report, "payload_bytes", (int64_t)sizeof(struct hjc_msg), "bytes");
	report_int(ctx->report, "interval_us", st->cfg.interval_us, "us");
	report_int(ctx->report, "spinner_rest_us", (int64_t)(st->spin.rest_ns / 1000), "us");
	report_int(ctx->report, "receiver_priority", ctx->priority, "");
	report_int(ctx->report, "spinner_priority", st->cfg.spinner_priority, "");
	report_int(ctx->report, "receiver_cpu", ctx->cpu, "");
	report_int(ctx->report, "sender_cpu", ctx->peer_cpu, "");
	report_int(ctx->report, "sched_rt_runtime_us", read_int_file("/proc/sys/kernel/sched_rt_runtime_us"), "us");
	return BENCH_OK;
}

int hjc_udp_setup(struct mech_ctx *ctx)
{
	return response_setup(ctx, &udp_path);
}

int hjc_tun_setup(struct mech_ctx *ctx)
{
	return response_setup(ctx, &tun_path);
}

int hjc_cosnet_setup(struct mech_ctx *ctx)
{
	return response_setup(ctx, &cosnet_path);
}

int hjc_aos_translator_setup(struct mech_ctx *ctx)
{
	return response_setup(ctx, &fwd_path);
}

int hjc_response_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct hjc_state *st = ctx->priv;
	const struct hjc_path *path = st->path;
	uint64_t prev_woke = 0;
	bool done = false;

	st->rps_before = st->rps_cpu >= 0 ? rps_ipis(st->rps_cpu) : 0;
	atomic_store(&st->sh->start, 1);
	while (!done) {
		uint64_t woke;
		ssize_t n = path->wait_packet(st, &woke);
		uint64_t last = atomic_load_explicit(&st->spin.last_tsc, memory_order_relaxed);
		int spinning = atomic_load(&st->spin.spinning);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return mech_why_errno(ctx, BENCH_FAIL, "%s: waiting for packet %llu", path->name,
					      (unsigned long long)st->next_seq);
		}
		uint32_t seq;
		if (path->accept(st, (size_t)n, &seq) != 0) {
			st->other_packets++;
			continue;
		}
		if (seq > st->next_seq)
			st->seq_gaps += seq - st->next_seq;
		st->next_seq = (uint64_t)seq + 1;
		st->received++;
		/* the spinner ran since the previous packet and was spinning when this one came */
		bool valid = spinning && last > prev_woke && woke > last;
		prev_woke = woke;
		if (valid)
			samples_add(s, woke - last);
		else
			st->not_spinning++;
		done = samples_full(s);
		if (done)
			atomic_store(&st->sh->stop, 1);   /* before the reply: the sender sends no more */
		if (path->reply(st, (size_t)n) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "%s: reply to packet %u", path->name, seq);
		uint64_t replied = tsc_end();
		if (valid) {
			st->reply_sum_cycles += replied - last;
			st->reply_n++;
		}
		atomic_store(&st->spin.rest, 1);
	}
	return BENCH_OK;
}

void hjc_response_teardown(struct mech_ctx *ctx)
{
	struct hjc_state *st = ctx->priv;
	if (!st->sh)
		return;
	atomic_store(&st->sh->stop, 1);
	int sender_rc = peer_stop(&st->sender, PEER_REAP_TIMEOUT_MS);
	atomic_store(&st->spin.stop, 1);
	peer_stop(&st->spinner, PEER_REAP_TIMEOUT_MS);
	if (st->have_fd)
		close(st->fd);
	st->have_fd = false;
	if (st->net == NETNS_VETH)
		netns_veth_delete();   /* the rest (TUN device, routes) went with the fd and goes with the namespace */

	const struct hjc_shared *sh = st->sh;
	report_int(ctx->report, "packets_sent", (int64_t)sh->sent, "packets");
	report_int(ctx->report, "packets_received", (int64_t)st->received, "packets");
	report_int(ctx->report, "replies_received", (int64_t)sh->replies, "packets");
	report_int(ctx->report, "reply_timeouts", (int64_t)sh->reply_timeouts, "packets");
	report_int(ctx->report, "late_replies", (int64_t)sh->late_replies, "packets");
	report_int(ctx->report, "send_errors", (int64_t)sh->send_errors, "packets");
	report_int(ctx->report, "seq_gaps", (int64_t)st->seq_gaps, "packets");
	report_int(ctx->report, "not_spinning", (int64_t)st->not_spinning, "packets");
	report_int(ctx->report, "other_packets", (int64_t)st->other_packets, "packets");
	if (st->rps_cpu >= 0)
		report_int(ctx->report, "rps_ipis", (int64_t)(rps_ipis(st->rps_cpu) - st->rps_before), "");
	if (st->reply_n && ctx->tsc && ctx->tsc->tsc_khz)
		report_real(ctx->report, "reply_sent_mean",
			    (double)st->reply_sum_cycles / (double)st->reply_n * 1e6 / (double)ctx->tsc->tsc_khz, "ns");
	if (sender_rc == SENDER_STALL_STATUS)
		report_kv(ctx->report, "sender", "gave up: no reply for %d ms", SENDER_STALL_MS);
	peer_shared_free(st->sh, sizeof(*st->sh));
	st->sh = NULL;
}
