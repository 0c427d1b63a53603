/*
 * translator-kmod: Hijack^COS's translator as the paper built it, a device
 * (/dev/translator, module gapbench_translator in kmods/): write() sends an
 * event into a ring shared with the other endpoint and wakes it, read()
 * blocks for one. Here both endpoints are Linux processes: the measuring
 * thread and an echo process on peer_cpu standing where the AOS would be.
 *
 *   sample   write of a 16-byte event -> the echo's reply read back: the
 *            round trip through the device and two wake-ups (the paper's
 *            Table II rows are one-way, cos->process and process->cos, with
 *            the AOS at one end: not the same quantity)
 *
 * Every reply is checked (its sequence number and payload), and afterwards
 * the rings as the mapping shows them (head = tail = messages each way).
 * Without the module the variant never gets here: it declares
 * MECH_NEEDS_KMOD and the harness reports "skip: module gapbench_translator
 * not loaded".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../kmods/gapbench_translator/gapbench_translator.h"
#include "hijackcos.h"
#include "translator_kmod.h"

/*
 * This experiment's state. It lives in the mechanism's priv block (struct
 * hjc_state's size, zeroed by the harness), which it fits in: the response
 * experiments' state is not used by this variant.
 */
struct tr_state {
	int fd;                    /* endpoint 0, the measuring thread's; -1 = none */
	int peer_fd;               /* endpoint 1, the echo's (closed here once it runs) */
	bool have_fds;
	const struct gbtr_ring *rings;
	struct peer echo;
	uint64_t sent;
};
_Static_assert(sizeof(struct tr_state) <= sizeof(struct hjc_state), "translator-kmod state fits in the priv block");

struct tr_msg {
	uint64_t seq;
	uint64_t check;
};

static uint64_t tr_check(uint64_t seq)
{
	return ~seq * 0x9e3779b97f4a7c15ull;
}

/* The echo (a forked process): every event back as it came, until the other end closes. */
static int echo_main(void *arg)
{
	struct tr_state *st = arg;   /* our own copy, after fork */
	struct tr_msg m;

	close(st->fd);   /* else our copy of endpoint 0 keeps the channel from ever ending */
	for (;;) {
		ssize_t n = read(st->peer_fd, &m, sizeof(m));
		if (n == 0)
			return 0;
		if (n != (ssize_t)sizeof(m) || write(st->peer_fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
			return 1;
	}
}

int hjc_translator_kmod_setup(struct mech_ctx *ctx)
{
	struct tr_state *st = ctx->priv;

	st->have_fds = true;
	st->peer_fd = -1;
	st->fd = open(GBTR_DEV, O_RDWR | O_CLOEXEC);
	if (st->fd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "open %s", GBTR_DEV);
	st->peer_fd = (int)ioctl(st->fd, GBTR_IOC_PEER);
	if (st->peer_fd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "GBTR_IOC_PEER");
	const void *map = mmap(NULL, GBTR_MAP_BYTES, PROT_READ, MAP_SHARED, st->fd, 0);
	if (map == MAP_FAILED)
		return mech_why_errno(ctx, BENCH_FAIL, "mmap %s", GBTR_DEV);
	st->rings = map;
	int rc = peer_start_or_fail(ctx, &st->echo, true, ctx->peer_cpu, echo_main, st);
	if (rc)
		return rc;
	close(st->peer_fd);
	st->peer_fd = -1;
	report_kv(ctx->report, "translator", "%s (gapbench_translator): write -> ring -> blocked read, an echo "
		  "process on peer_cpu at the AOS's end", GBTR_DEV);
	report_kv(ctx->report, "sample", "round trip of a 16-byte event (the paper's rows are one-way)");
	return BENCH_OK;
}

int hjc_translator_kmod_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct tr_state *st = ctx->priv;

	while (!samples_full(s)) {
		struct tr_msg m = { .seq = st->sent, .check = tr_check(st->sent) }, back;
		uint64_t t0 = tsc_start();
		ssize_t w = write(st->fd, &m, sizeof(m));
		ssize_t r = read(st->fd, &back, sizeof(back));
		uint64_t t1 = tsc_end();
		if (w != (ssize_t)sizeof(m) || r != (ssize_t)sizeof(back))
			return mech_why_errno(ctx, BENCH_FAIL, "event %llu: write %zd, read %zd",
					      (unsigned long long)st->sent, w, r);
		if (back.seq != m.seq || back.check != m.check)
			return mech_why(ctx, BENCH_FAIL, "event %llu came back as %llu", (unsigned long long)m.seq,
					(unsigned long long)back.seq);
		st->sent++;
		samples_add(s, t1 - t0);
	}
	for (int i = 0; i < 2; i++)
		if (st->rings[i].head != (uint32_t)st->sent || st->rings[i].tail != (uint32_t)st->sent)
			return mech_why(ctx, BENCH_FAIL, "ring %d shows head %u tail %u after %llu events", i,
					st->rings[i].head, st->rings[i].tail, (unsigned long long)st->sent);
	report_int(ctx->report, "events_each_way", (int64_t)st->sent, "events");
	return BENCH_OK;
}

void hjc_translator_kmod_teardown(struct mech_ctx *ctx)
{
	struct tr_state *st = ctx->priv;

	if (!st->have_fds)
		return;
	if (st->fd >= 0 && close(st->fd) == 0)   /* the echo reads end-of-file and exits */
		st->fd = -1;
	if (st->peer_fd >= 0 && close(st->peer_fd) == 0)
		st->peer_fd = -1;
	peer_stop(&st->echo, PEER_REAP_TIMEOUT_MS);
	if (st->rings && munmap((void *)st->rings, GBTR_MAP_BYTES) == 0)
		st->rings = NULL;
}
