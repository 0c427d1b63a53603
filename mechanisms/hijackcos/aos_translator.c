/*
 * Table II in the AOS: the translator between a Linux process (the
 * measuring thread) and AOS component A, through wait-free SPSC rings in
 * guest memory (aos_ring.h), one message at a time, user level to user
 * level, timed on one time base (host TSC; guest stamps converted with the
 * vCPU's TSC offset). The AOS's vCPU thread runs on peer_cpu.
 *
 *   translator-to-aos    process -> AOS: the process stamps, writes the
 *                        message, writes the irqfd (an MSI to the AOS's
 *                        vCPU); the AOS kernel's interrupt handler wakes A
 *                        blocked in AOS_SYS_WAIT_IRQ (sti; hlt), A stamps
 *                        at user level and reads it; sample = A's stamp -
 *                        the process's
 *   translator-from-aos  AOS -> process: A stamps, writes the message,
 *                        rings the doorbell (a CPL 3 MMIO write bound to an
 *                        ioeventfd: no exit to the VMM); the process,
 *                        blocked in poll() on that eventfd, wakes, stamps
 *                        and reads it; sample = its stamp - A's
 * After each message the receiver acknowledges it and the sender waits
 * gap_us, so the receiver is blocked again before the next one. Sequence
 * numbers and a payload checksum on every message: any loss, reordering or
 * damage fails the case.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aos_host.h"
#include "placement.h"

#define SPIN_CHECK_EVERY 4096u
/*
 * The sender spins this long for an acknowledgement, then sleeps between
 * looks: at the case's SCHED_FIFO priority a longer spin would starve the
 * kernel's own work on this CPU (an irqfd injection that misses KVM's
 * atomic fast path goes through a kworker here).
 */
#define ACK_SPIN_CYCLES 200000u
#define ACK_SLEEP_US 20

static uint64_t gap_cycles(const struct mech_ctx *ctx)
{
	const struct hjc_cfg_all *cfg = ctx->cfg;
	uint64_t khz = ctx->tsc && ctx->tsc->tsc_khz ? ctx->tsc->tsc_khz : 1000000;
	return (uint64_t)cfg->gap_us * khz / 1000u;
}

static void spin_cycles(uint64_t cycles)
{
	uint64_t t0 = tsc_start();
	while (tsc_start() - t0 < cycles)
		__builtin_ia32_pause();
}

static void report_counts(struct mech_ctx *ctx, const struct aos_state *a, uint64_t sent, uint64_t not_after)
{
	report_int(ctx->report, "messages_sent", (int64_t)sent, "");
	report_int(ctx->report, "messages_received", (int64_t)a->sh->received, "");
	report_int(ctx->report, "seq_errors", (int64_t)a->sh->seq_errors, "");
	report_int(ctx->report, "payload_errors", (int64_t)a->sh->payload_errors, "");
	report_int(ctx->report, "receiver_wakeups", (int64_t)a->sh->wakeups, "");
	report_int(ctx->report, "stamp_not_after_send", (int64_t)not_after, "");
	report_int(ctx->report, "msg_bytes", ((const struct hjc_cfg_all *)ctx->cfg)->msg_bytes, "bytes");
	report_int(ctx->report, "guest_tsc_offset", a->g.vcpu.tsc_offset, "cycles");
}

static int check_counts(struct mech_ctx *ctx, const struct aos_state *a, uint64_t sent)
{
	if (a->sh->received != sent || a->sh->seq_errors || a->sh->payload_errors)
		return mech_why(ctx, BENCH_FAIL, "translator: %llu messages sent, %llu received, %llu out of order, "
				"%llu bad bytes", (unsigned long long)sent, (unsigned long long)a->sh->received,
				(unsigned long long)a->sh->seq_errors, (unsigned long long)a->sh->payload_errors);
	return BENCH_OK;
}

/* One-way deltas between the measuring CPU and the AOS's: their TSCs must agree (placement_tsc_check). */
static int time_base(struct mech_ctx *ctx)
{
	const struct hjc_cfg_all *cfg = ctx->cfg;
	if (!cfg->tsc_check) {
		report_kv(ctx->report, "tsc_sync", "not checked (tsc_check = false)");
		return BENCH_OK;
	}
	return placement_tsc_check(ctx, ctx->cpu, ctx->peer_cpu);
}

int aos_to_aos_setup(struct mech_ctx *ctx)
{
	struct aos_state *a = aos_priv(ctx);
	int rc = time_base(ctx);
	if (rc == BENCH_OK)
		rc = aos_vm_boot(ctx, a, COS_PROG_TO_AOS);
	if (rc != BENCH_OK)
		return rc;
	if ((rc = aos_vm_irq_in(ctx, a)) != BENCH_OK)
		return rc;
	rc = aos_vm_launch(ctx, a, ctx->peer_cpu, ctx->priority);
	return rc == BENCH_OK ? aos_vm_wait_ready(ctx, a) : rc;
}

/* Spin until the guest acknowledged seq; BENCH_OK, or FAIL at the deadline or when the guest ended. */
static int wait_ack(struct mech_ctx *ctx, struct aos_state *a, uint64_t seq)
{
	uint64_t deadline = aos_deadline_ns(ctx), t0 = tsc_start();
	for (unsigned spins = 1;; spins++) {
		if (__atomic_load_n(&a->sh->ack_seq, __ATOMIC_ACQUIRE) == seq)
			return BENCH_OK;
		__builtin_ia32_pause();
		if (tsc_start() - t0 > ACK_SPIN_CYCLES)
			usleep(ACK_SLEEP_US);
		else if (spins % SPIN_CHECK_EVERY)
			continue;
		if (aos_vm_phase(a) == AOS_PHASE_ENDED) {
			char how[200];
			aos_vm_describe_end(a, how, sizeof(how));
			return mech_why(ctx, BENCH_FAIL, "translator: the AOS ended waiting for message %llu: %s",
					(unsigned long long)seq, how);
		}
		if (aos_now_ns() > deadline)
			return mech_why(ctx, BENCH_FAIL, "translator: the AOS did not acknowledge message %llu within the "
					"case's timeout (received %llu, wake-ups %llu)", (unsigned long long)seq,
					(unsigned long long)a->sh->received, (unsigned long long)a->sh->wakeups);
	}
}

static int send_to_aos(struct mech_ctx *ctx, struct aos_state *a, uint64_t seq, uint32_t len, uint32_t flags,
		       uint64_t *t_send)
{
	struct aos_ring_slot *slot = aos_ring_reserve(a->to_aos);
	if (!slot)
		return mech_why(ctx, BENCH_FAIL, "translator: ring full at message %llu", (unsigned long long)seq);
	*t_send = tsc_start();
	slot->tsc = *t_send;
	slot->seq = seq;
	slot->flags = flags;
	slot->len = len;
	slot->sum = aos_ring_fill(slot->data, len, seq);
	aos_ring_publish(a->to_aos);
	uint64_t one = 1;
	if (write(a->irq_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return mech_why_errno(ctx, BENCH_FAIL, "translator: write irqfd");
	return BENCH_OK;
}

int aos_to_aos_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct aos_state *a = aos_priv(ctx);
	const struct hjc_cfg_all *cfg = ctx->cfg;
	uint64_t gap = gap_cycles(ctx), seq = 0, not_after = 0;
	int rc = BENCH_OK;
	while (rc == BENCH_OK && !samples_full(s)) {
		uint64_t t_send;
		rc = send_to_aos(ctx, a, ++seq, (uint32_t)cfg->msg_bytes, 0, &t_send);
		if (rc == BENCH_OK)
			rc = wait_ack(ctx, a, seq);
		if (rc != BENCH_OK)
			break;
		uint64_t t_recv = aos_vm_host_tsc(a, a->sh->ack_tsc);
		if (t_recv > t_send)
			samples_add(s, t_recv - t_send);
		else
			not_after++;
		spin_cycles(gap);
	}
	uint64_t t_stop;
	if (rc == BENCH_OK)
		rc = send_to_aos(ctx, a, seq + 1, 0, AOS_RING_STOP, &t_stop);
	if (rc == BENCH_OK)
		rc = aos_vm_wait_end(ctx, a);
	report_counts(ctx, a, seq, not_after);
	return rc == BENCH_OK ? check_counts(ctx, a, seq) : rc;
}

int aos_from_aos_setup(struct mech_ctx *ctx)
{
	struct aos_state *a = aos_priv(ctx);
	const struct hjc_cfg_all *cfg = ctx->cfg;
	int rc = time_base(ctx);
	if (rc == BENCH_OK)
		rc = aos_vm_boot(ctx, a, COS_PROG_FROM_AOS);
	if (rc != BENCH_OK)
		return rc;
	if ((rc = aos_vm_doorbell(ctx, a)) != BENCH_OK)
		return rc;
	a->sh->msg_bytes = (uint64_t)cfg->msg_bytes;
	a->sh->gap_cycles = gap_cycles(ctx);
	rc = aos_vm_launch(ctx, a, ctx->peer_cpu, ctx->priority);
	return rc == BENCH_OK ? aos_vm_wait_ready(ctx, a) : rc;
}

int aos_from_aos_measure(struct mech_ctx *ctx, struct samples *s)
{
	struct aos_state *a = aos_priv(ctx);
	uint64_t expect = 1, not_after = 0, doorbells = 0;
	int rc = BENCH_OK;
	while (rc == BENCH_OK && !samples_full(s)) {
		uint64_t count;
		int n = aos_wait_eventfd(ctx, a->bell_efd, &count);
		uint64_t t_recv = tsc_end();
		if (n < 0)
			return mech_why_errno(ctx, BENCH_FAIL, "translator: the doorbell eventfd");
		if (n == 0) {
			rc = mech_why(ctx, BENCH_FAIL, "translator: no doorbell for message %llu in time",
				      (unsigned long long)expect);
			break;
		}
		doorbells += count;
		struct aos_ring_slot *slot;
		uint64_t last = 0;
		while ((slot = aos_ring_peek(a->from_aos)) != NULL) {
			uint64_t t_send = aos_vm_host_tsc(a, slot->tsc);
			a->sh->seq_errors += slot->seq != expect;
			expect = slot->seq + 1;
			last = slot->seq;
			a->sh->payload_errors += aos_ring_check(slot->data, slot->len <= AOS_RING_SLOT_DATA ? slot->len : 0,
								slot->seq, slot->sum);
			aos_ring_release(a->from_aos);
			a->sh->received++;
			if (t_recv > t_send)
				samples_add(s, t_recv - t_send);
			else
				not_after++;
		}
		if (last)
			__atomic_store_n(&a->sh->ack_seq, last, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&a->sh->stop, 1, __ATOMIC_RELEASE);
	if (rc == BENCH_OK)
		rc = aos_vm_wait_end(ctx, a);
	report_counts(ctx, a, expect - 1, not_after);
	report_int(ctx->report, "doorbells", (int64_t)doorbells, "");
	return rc == BENCH_OK ? check_counts(ctx, a, expect - 1) : rc;
}

const struct opt_desc aos_translator_opts[] = {
	OPT_INT_FIELD(struct hjc_cfg_all, msg_bytes, "16", 1, AOS_RING_SLOT_DATA, "bytes",
		      "payload of each message (at most a ring slot's)"),
	OPT_INT_FIELD(struct hjc_cfg_all, gap_us, "50", 0, 1000000, "us",
		      "after each acknowledged message the sender waits this long, so the receiver blocks again"),
	OPT_BOOL_FIELD(struct hjc_cfg_all, tsc_check, "true",
		       "check that the measuring CPU's and the AOS CPU's TSCs agree before one-way deltas (a skip "
		       "where they do not); false only where no latency is wanted (TCG: correctness runs)"),
	OPT_TABLE_END,
};
