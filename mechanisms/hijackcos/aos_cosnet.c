/*
 * Table III into the AOS: two receiver paths of response.c.
 *
 * AOS via cosnet: the I/O response path into the AOS. The
 * Linux side is response.c's (the sender over the veth, RPS onto the
 * measuring CPU, the TUN device, the medium-priority spinner, the measuring
 * loop); this file is the path's receiver. On the measuring CPU, at the
 * case's priority, the VMM's I/O thread (the measuring thread) blocks in
 * read() on the TUN device; the packet it reads goes into the ring shared
 * with the AOS and an irqfd interrupt wakes the AOS's vCPU (same CPU, same
 * priority) whose component A, blocked in AOS_SYS_WAIT_IRQ, stamps the TSC
 * at user level: that stamp (converted to the host's time base with the
 * vCPU's TSC offset, read back and checked) is the delivery time; sample =
 * it - the spinner's last TSC, as on the Linux paths. A turns the packet
 * into its reply (packet.c, compiled into the guest) and rings the doorbell
 * (ioeventfd); the I/O thread writes the reply into the TUN device.
 *
 * AOS via the translator: the same AOS program, but the packet is read
 * from the TUN device by a Linux process of its own (the forwarder, forked,
 * on the measuring CPU at the case's priority), which writes it into the
 * translator's ring (memory it shares with the VMM and the guest: a
 * MAP_SHARED slot) and the irqfd, blocks on the doorbell, writes the AOS's
 * reply into the TUN device and hands the AOS's stamp to the measuring
 * thread (an eventfd). So a Linux process's wake-up and its system calls lie
 * between the packet and the AOS, as /dev/translator's on the paper's
 * machine; the AOS side and the sample are cosnet's.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aos_host.h"

static int net_open(struct mech_ctx *ctx, struct hjc_state *st, bool shared_slot)
{
	struct aos_state *a = aos_priv(ctx);
	int rc = aos_vm_boot_at(ctx, a, COS_PROG_COSNET, shared_slot);
	if (rc != BENCH_OK)
		return rc;
	/*
	 * The time base: the offset KVM applies now (read back; KVM adjusts it
	 * where it finds the host's TSC unstable, as under TCG). It cannot be
	 * read while the vCPU runs (KVM_RUN holds the vCPU), so teardown reads
	 * it again and reports any drift: samples of a run whose offset moved
	 * are not on one time base.
	 */
	int64_t offset = 0;
	if (kvm_vcpu_read_tsc_offset(&a->g.vcpu, &offset) != 0)
		return mech_why(ctx, BENCH_FAIL, "the AOS vCPU's TSC offset: %s", a->g.vcpu.why);
	report_int(ctx->report, "guest_tsc_offset_at_create", a->g.vcpu.tsc_offset, "cycles");
	report_int(ctx->report, "guest_tsc_offset", offset, "cycles");
	a->g.vcpu.tsc_offset = offset;
	if ((rc = aos_vm_irq_in(ctx, a)) != BENCH_OK || (rc = aos_vm_doorbell(ctx, a)) != BENCH_OK)
		return rc;
	a->sh->port = (uint64_t)st->cfg.port;
	/* The AOS on the measuring CPU beside Linux, as COMPOSITE on the paper's: its vCPU at the case's priority. */
	rc = aos_vm_launch(ctx, a, ctx->cpu, ctx->priority);
	return rc == BENCH_OK ? aos_vm_wait_ready(ctx, a) : rc;
}

int aos_cosnet_open(struct mech_ctx *ctx, struct hjc_state *st)
{
	int rc = net_open(ctx, st, false);
	if (rc == BENCH_OK)
		report_kv(ctx->report, "receiver", "AOS component A (KVM guest on CPU %d) fed by the VMM's I/O thread "
			  "from TUN device read(), irqfd in, ioeventfd doorbell back", ctx->cpu);
	return rc;
}

/* Packet -> the to-AOS ring -> irqfd; block on the doorbell (up to the AOS wait); the reply slot, or NULL (errno). */
static struct aos_ring_slot *through_aos(struct aos_state *a, const uint8_t *pkt, size_t n)
{
	struct aos_ring_slot *in = aos_ring_reserve(a->to_aos);
	if (!in) {
		errno = ENOBUFS;
		return NULL;
	}
	in->len = (uint32_t)(n <= AOS_RING_SLOT_DATA ? n : 0);   /* too long: not ours */
	in->flags = 0;
	memcpy(in->data, pkt, in->len);
	aos_ring_publish(a->to_aos);
	uint64_t one = 1;
	if (write(a->irq_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return NULL;
	uint64_t count;
	if (aos_wait_eventfd(a->ctx, a->bell_efd, &count) != 1)
		return NULL;   /* ETIMEDOUT: the AOS did not answer; the case fails with the packet's number */
	struct aos_ring_slot *out = aos_ring_peek(a->from_aos);
	if (!out)
		errno = EPROTO;
	return out;
}

ssize_t aos_cosnet_wait(struct hjc_state *st, uint64_t *woke_tsc)
{
	struct aos_state *a = aos_of_hjc(st);
	ssize_t n = read(st->fd, st->buf, sizeof(st->buf));
	if (n < 0)
		return -1;
	struct aos_ring_slot *out = through_aos(a, st->buf, (size_t)n);
	if (!out)
		return -1;
	*woke_tsc = aos_vm_host_tsc(a, out->tsc);
	a->net_seq = (uint32_t)out->seq;
	a->net_ours = !(out->flags & COS_PKT_NOT_OURS);
	size_t len = out->len <= sizeof(st->buf) ? out->len : 0;
	memcpy(st->buf, out->data, len);
	aos_ring_release(a->from_aos);
	return (ssize_t)len;
}

int aos_cosnet_accept(struct hjc_state *st, size_t len, uint32_t *seq)
{
	struct aos_state *a = aos_of_hjc(st);
	(void)len;
	if (!a->net_ours)
		return -1;
	*seq = a->net_seq;   /* the AOS read it and made the reply */
	return 0;
}

void aos_cosnet_teardown(struct mech_ctx *ctx)
{
	struct aos_state *a = aos_priv(ctx);
	if (a->forwarder_started) {
		uint64_t one = 1;
		if (write(a->stop_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			report_kv(ctx->report, "forwarder", "could not be told to stop: killed");
		int frc = peer_stop(&a->forwarder, PEER_REAP_TIMEOUT_MS);
		a->forwarder_started = false;
		report_int(ctx->report, "forwarder_exit", frc, "");
		if (a->sh)
			report_int(ctx->report, "forwarder_errors", (int64_t)a->sh->fwd_errors, "");
	}
	if (a->have_result_efd)
		close(a->result_efd);
	if (a->have_stop_efd)
		close(a->stop_efd);
	a->have_result_efd = a->have_stop_efd = false;
	if (a->sh) {
		report_int(ctx->report, "aos_packets", (int64_t)a->sh->received, "packets");
		report_int(ctx->report, "aos_wakeups", (int64_t)a->sh->wakeups, "");
	}
	aos_vm_stop_thread(a);
	int64_t offset = 0;
	if (a->booted && a->g.vcpu.fd > 0 && kvm_vcpu_read_tsc_offset(&a->g.vcpu, &offset) == 0)
		report_int(ctx->report, "guest_tsc_offset_drift", offset - a->g.vcpu.tsc_offset, "cycles");
	aos_vm_stop(a);
	hjc_response_teardown(ctx);
}

/* ---- AOS via the translator: the forwarder process ---- */

/* In the forked forwarder (its own copy of the case's state; the rings and eventfds are shared). */
static int forwarder_main(void *arg)
{
	struct hjc_state *st = arg;
	struct aos_state *a = aos_of_hjc(st);
	struct pollfd p[2] = { { .fd = st->fd, .events = POLLIN }, { .fd = a->stop_efd, .events = POLLIN } };
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[1].revents)
			return 0;
		ssize_t n = read(st->fd, st->buf, sizeof(st->buf));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return 1;
		}
		struct aos_ring_slot *out = through_aos(a, st->buf, (size_t)n);
		if (!out) {
			a->sh->fwd_errors++;
			return 2;
		}
		bool ours = !(out->flags & COS_PKT_NOT_OURS);
		if (ours && write(st->fd, out->data, out->len) != (ssize_t)out->len)
			a->sh->fwd_errors++;
		a->sh->fwd_seq = out->seq;
		a->sh->fwd_tsc = out->tsc;
		a->sh->fwd_len = out->len;
		a->sh->fwd_ours = ours;
		aos_ring_release(a->from_aos);
		uint64_t one = 1;
		if (write(a->result_efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			return 3;
	}
}

int aos_fwd_open(struct mech_ctx *ctx, struct hjc_state *st)
{
	struct aos_state *a = aos_priv(ctx);
	int rc = net_open(ctx, st, true);
	if (rc != BENCH_OK)
		return rc;
	a->result_efd = eventfd(0, EFD_CLOEXEC);
	if (a->result_efd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "eventfd");
	a->have_result_efd = true;
	a->stop_efd = eventfd(0, EFD_CLOEXEC);
	if (a->stop_efd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "eventfd");
	a->have_stop_efd = true;
	/* The Linux process beside the AOS on the measuring CPU, at the case's priority. */
	rc = peer_start_or_fail(ctx, &a->forwarder, true, ctx->cpu, forwarder_main, st);
	if (rc != BENCH_OK)
		return rc;
	a->forwarder_started = true;
	report_kv(ctx->report, "receiver", "AOS component A (KVM guest on CPU %d) fed through the translator (ring in "
		  "shared memory, irqfd, ioeventfd doorbell) by a forwarder process reading the TUN device", ctx->cpu);
	return BENCH_OK;
}

ssize_t aos_fwd_wait(struct hjc_state *st, uint64_t *woke_tsc)
{
	struct aos_state *a = aos_of_hjc(st);
	uint64_t count;
	if (aos_wait_eventfd(a->ctx, a->result_efd, &count) != 1)
		return -1;   /* ETIMEDOUT: no packet through the forwarder and the AOS in time */
	*woke_tsc = aos_vm_host_tsc(a, a->sh->fwd_tsc);
	a->net_seq = (uint32_t)a->sh->fwd_seq;
	a->net_ours = a->sh->fwd_ours != 0;
	return (ssize_t)a->sh->fwd_len;
}

int aos_fwd_reply(struct hjc_state *st, size_t len)
{
	(void)st;
	(void)len;
	return 0;   /* the forwarder wrote the AOS's reply into the TUN device already */
}
