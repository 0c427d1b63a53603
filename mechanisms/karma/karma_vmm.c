/* Karma's VMM techniques on the KVM substrate (karma_vmm.h). */
#include "karma_vmm.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "karma_calc.h"
#include "karma_deferred.h"
#include "mechanism.h"
#include "rtenv.h"

extern const unsigned char karma_guest_image[];
extern const size_t karma_guest_image_bytes;

#define RAM_BYTES (16ull << 20)
#define OTHER_RAM_BYTES (32ull << 20)
#define TIMER_GSI 1u
#define DEV_GSI 2u
#define BATCH 256u

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int vwhy(struct karma_vmm *v, int rc, const char *fmt, ...) BENCH_PRINTF(3, 4);
static int vwhy(struct karma_vmm *v, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bench_vwhy(v->why, sizeof(v->why), rc, false, fmt, ap);
	va_end(ap);
	return rc;
}

/* A helper thread failed: say why and end the vCPU loop. */
static void thread_fail(struct karma_vmm *v, const char *what, int err)
{
	snprintf(v->thread_why, sizeof(v->thread_why), "%s: %s", what, strerror(err));
	atomic_store(&v->stop_request, KVM_GUEST_HOST_ERROR);
	kvm_vcpu_kick(&v->g.vcpu);
}

/* Arm the host timer at guest TSC `deadline` (CLOCK_MONOTONIC, absolute). */
static int arm_host_timer(struct karma_vmm *v, uint64_t deadline)
{
	uint64_t host_tsc = karma_guest_to_host_tsc(deadline, v->g.vcpu.tsc_offset);
	uint64_t t0 = tsc_start();
	uint64_t now = mono_ns();
	uint64_t t1 = tsc_end();
	uint64_t ns = karma_tsc_to_mono_ns(host_tsc, t0 + (t1 - t0) / 2, now, v->cfg.tsc_khz);
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(ns / 1000000000ull), .tv_nsec = (long)(ns % 1000000000ull) },
	};
	return timerfd_settime(v->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * The event count first (the guest's handler reads it before its stamp),
 * then the MSI; with lose_every, every Nth MSI is withheld (a lost
 * interrupt, for the watchdog tests).
 */
static int inject_timer(struct karma_vmm *v)
{
	uint64_t n = __atomic_add_fetch(&v->shared->fired, 1, __ATOMIC_SEQ_CST);
	if (v->cfg.lose_every && n % v->cfg.lose_every == 0) {
		atomic_fetch_add(&v->withheld, 1);
		return 0;
	}
	uint64_t one = 1;
	return write(v->timer_irq_fd, &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -1;
}

static void *timer_main(void *arg)
{
	struct karma_vmm *v = arg;
	int prio = v->cfg.priority > 0 ? (v->cfg.priority < 99 ? v->cfg.priority + 1 : 99) : 0;
	int err = v->cfg.cpu >= 0 ? rtenv_pin_self(v->cfg.cpu) : 0;
	if (!err && prio)
		err = rtenv_fifo_self(prio);
	if (err) {
		thread_fail(v, "timer thread: pinning or SCHED_FIFO", err);
		return NULL;
	}
	struct pollfd p[2] = { { .fd = v->timer_fd, .events = POLLIN }, { .fd = v->stop_fd, .events = POLLIN } };
	while (!atomic_load(&v->stopping)) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			thread_fail(v, "timer thread: poll", errno);
			return NULL;
		}
		if (p[1].revents)
			break;
		uint64_t n;
		if (read(v->timer_fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
			continue;   /* re-armed meanwhile: no expiry */
		uint64_t expiries = atomic_fetch_add(&v->expiries, 1) + 1;
		if (v->cfg.fault == KARMA_FAULT_CRASH_TIMER && expiries >= v->cfg.fault_after)
			raise(SIGSEGV);   /* fault injection: a crashed VMM thread takes the case's process */
		if (inject_timer(v) != 0) {
			thread_fail(v, "timer thread: irqfd write", errno);
			return NULL;
		}
		if (v->cfg.mode == KARMA_TIMER_PV_DEFERRED) {
			/* after the injection: re-arming is off the critical path */
			uint64_t d = karma_deferred_take(&v->shared->next_deadline);
			if (!d) {
				atomic_fetch_add(&v->idle_expiries, 1);
			} else if (arm_host_timer(v, d) != 0) {
				thread_fail(v, "timer thread: timerfd_settime", errno);
				return NULL;
			} else {
				atomic_fetch_add(&v->deferred_arms, 1);
			}
		}
	}
	return NULL;
}

static void *dev_main(void *arg)
{
	struct karma_vmm *v = arg;
	int err = v->cfg.peer_cpu >= 0 ? rtenv_pin_self(v->cfg.peer_cpu) : 0;
	if (!err && v->cfg.priority > 0)
		err = rtenv_fifo_self(v->cfg.priority);
	if (err) {
		thread_fail(v, "device-load thread: pinning or SCHED_FIFO", err);
		return NULL;
	}
	uint64_t interval = 1000000000ull / v->cfg.irq_rate;
	uint64_t next = mono_ns() + interval;
	while (!atomic_load(&v->stopping)) {
		struct timespec ts = { .tv_sec = (time_t)(next / 1000000000ull), .tv_nsec = (long)(next % 1000000000ull) };
		int e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (e && e != EINTR) {
			thread_fail(v, "device-load thread: clock_nanosleep", e);
			return NULL;
		}
		uint64_t one = 1;
		if (write(v->dev_irq_fd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			atomic_fetch_add(&v->dev_sent, 1);
		next += interval;
		uint64_t now = mono_ns();
		if (now > next + 10 * interval)
			next = now + interval;   /* fell far behind: no burst to catch up */
	}
	return NULL;
}

static void *other_main(void *arg)
{
	struct karma_vmm *v = arg;
	struct kvm_dispatch d = { 0 };
	if (kvm_vcpu_bind_thread(&v->other.vcpu, v->cfg.other_cpu, 0) != 0) {
		snprintf(v->thread_why, sizeof(v->thread_why), "other VM: %.140s", v->other.vcpu.why);
		atomic_store(&v->stop_request, KVM_GUEST_HOST_ERROR);
		kvm_vcpu_kick(&v->g.vcpu);
		return NULL;
	}
	/*
	 * SCHED_OTHER, said explicitly: this thread is created in setup, after
	 * the harness made the case's thread SCHED_FIFO, and inherits that; a
	 * spinning VM at the real-time VM's own FIFO priority on its CPU never
	 * yields to it (the real-time VM never ran a period).
	 */
	int err = rtenv_fifo_self(0);
	if (err) {
		thread_fail(v, "other VM thread: SCHED_OTHER", err);
		return NULL;
	}
	while (kvm_run_loop(&v->other.vcpu, &d, &v->other_st, &v->other_stop) != KVM_LOOP_ENDED)
		;
	return NULL;
}

static int eventfd_new(struct karma_vmm *v, int *fd, const char *what)
{
	*fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (*fd < 0)
		return vwhy(v, BENCH_FAIL, "eventfd (%s): %s", what, strerror(errno));
	return BENCH_OK;
}

static int route(struct karma_vmm *v, unsigned gsi, uint8_t vector, int fd)
{
	if (kvm_vm_route_msi(&v->g.vm, gsi, 0, vector) != 0 || kvm_vm_irqfd(&v->g.vm, gsi, fd, true) != 0)
		return vwhy(v, BENCH_SKIP, "interrupt injection (irqfd as MSI): %s", v->g.vm.why);
	return BENCH_OK;
}

static int start_other_vm(struct karma_vmm *v)
{
	const struct karma_vmm_config *c = &v->cfg;
	struct kvm_boot_info b = {
		.magic = KVM_BOOT_MAGIC, .ram_bytes = OTHER_RAM_BYTES, .tsc_khz = c->tsc_khz,
		.program = c->other == KARMA_OTHER_MEM ? KARMA_PROG_LOAD_MEM : KARMA_PROG_LOAD_SPIN,
		.arg = { c->other_bytes },
	};
	char why[256];
	if (kvm_guest_boot(&v->other, OTHER_RAM_BYTES, karma_guest_image, karma_guest_image_bytes, &b, why,
			   sizeof(why)) != 0)
		return vwhy(v, BENCH_FAIL, "other VM: %s", why);
	int err = pthread_create(&v->other_thread, NULL, other_main, v);
	if (err)
		return vwhy(v, BENCH_FAIL, "other VM thread: %s", strerror(err));
	v->other_started = true;
	return BENCH_OK;
}

int karma_vmm_start(struct karma_vmm *v, const struct karma_vmm_config *cfg)
{
	memset(v, 0, sizeof(*v));
	v->started = true;
	v->cfg = *cfg;
	v->timer_fd = v->timer_irq_fd = v->dev_irq_fd = v->stop_fd = -1;
	v->stats.fd = -1;
	uint64_t khz = cfg->tsc_khz;
	struct kvm_boot_info b = {
		.magic = KVM_BOOT_MAGIC, .program = KARMA_PROG_CYCLIC, .ram_bytes = RAM_BYTES, .tsc_khz = khz,
	};
	b.arg[KARMA_ARG_MODE] = cfg->mode;
	b.arg[KARMA_ARG_PERIOD_CYCLES] = karma_ns_to_cycles(cfg->period_ns, khz);
	b.arg[KARMA_ARG_NEAR_EVERY] = cfg->near_every;
	b.arg[KARMA_ARG_NEAR_CYCLES] = karma_ns_to_cycles(cfg->near_ns, khz);
	b.arg[KARMA_ARG_RELEASE_CYCLES] = karma_ns_to_cycles(cfg->release_ns, khz);
	b.arg[KARMA_ARG_DEV_WORK_CYCLES] = karma_ns_to_cycles(cfg->dev_work_ns, khz);
	b.arg[KARMA_ARG_TPR] = cfg->tpr;
	b.arg[KARMA_ARG_BATCH] = BATCH;
	char why[256];
	if (kvm_guest_boot(&v->g, RAM_BYTES, karma_guest_image, karma_guest_image_bytes, &b, why, sizeof(why)) != 0)
		return vwhy(v, BENCH_FAIL, "guest: %s", why);
	v->shared = kvm_vm_gpa(&v->g.vm, KARMA_SHARED_GPA);
	if (cfg->fault == KARMA_FAULT_STOP_ARMING)
		v->shared->stop_arming_after = cfg->fault_after;
	if (!v->has_stats && kvm_stats_open(&v->stats, v->g.vcpu.fd, why, sizeof(why)) == 0)
		v->has_stats = true;
	int rc = eventfd_new(v, &v->stop_fd, "stop");
	if (rc)
		return rc;
	if (cfg->mode != KARMA_TIMER_LAPIC) {
		if ((rc = eventfd_new(v, &v->timer_irq_fd, "timer irqfd")) || (rc = route(v, TIMER_GSI, 0xe0, v->timer_irq_fd)))
			return rc;
		v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (v->timer_fd < 0)
			return vwhy(v, BENCH_FAIL, "timerfd_create: %s", strerror(errno));
		int err = pthread_create(&v->timer_thread, NULL, timer_main, v);
		if (err)
			return vwhy(v, BENCH_FAIL, "timer thread: %s", strerror(err));
		v->timer_started = true;
	}
	if (cfg->irq_rate) {
		if ((rc = eventfd_new(v, &v->dev_irq_fd, "device irqfd")) ||
		    (rc = route(v, DEV_GSI, KARMA_DEV_VECTOR, v->dev_irq_fd)))
			return rc;
		int err = pthread_create(&v->dev_thread, NULL, dev_main, v);
		if (err)
			return vwhy(v, BENCH_FAIL, "device-load thread: %s", strerror(err));
		v->dev_started = true;
	}
	if (cfg->other != KARMA_OTHER_NONE && (rc = start_other_vm(v)))
		return rc;
	return BENCH_OK;
}

static int on_arm(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)value;
	struct karma_vmm *v = arg;
	struct kvm_mailbox *mb = kvm_vm_mailbox(vcpu->vm);
	uint64_t deadline = mb->arg[0];
	if (karma_trigger_decide(deadline, mb->arg[1], v->exit_entry_cycles, v->cfg.soft) == KARMA_TRIGGER_SOFT) {
		atomic_fetch_add(&v->soft, 1);
		if (inject_timer(v) != 0)
			thread_fail(v, "soft trigger: irqfd write", errno);
	} else {
		atomic_fetch_add(&v->hard, 1);
		if (arm_host_timer(v, deadline) != 0)
			thread_fail(v, "timerfd_settime", errno);
	}
	return KVM_HC_CONTINUE;
}

static int on_flush(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)value;
	struct karma_vmm *v = arg;
	struct kvm_mailbox *mb = kvm_vm_mailbox(vcpu->vm);
	uint64_t n = mb->arg[KARMA_FLUSH_N];
	const uint64_t *lat = kvm_vm_gpa(vcpu->vm, KARMA_SAMPLES_GPA);
	if (n > KARMA_BATCH_MAX)
		n = KARMA_BATCH_MAX;
	for (uint64_t i = 0; i < n; i++) {
		if (lat[i] > v->max_cycles)
			v->max_cycles = lat[i];
		samples_add(v->s, karma_cycles_to_ns(lat[i], v->cfg.tsc_khz));
	}
	v->counts = (struct karma_guest_counts){
		.periods = mb->arg[KARMA_FLUSH_PERIODS], .missed = mb->arg[KARMA_FLUSH_MISSED],
		.early = mb->arg[KARMA_FLUSH_EARLY], .dev_irqs = mb->arg[KARMA_FLUSH_DEV_IRQS],
		.dev_in_window = mb->arg[KARMA_FLUSH_DEV_IN_WINDOW], .held_back = mb->arg[KARMA_FLUSH_HELD_BACK],
		.hc_arms = mb->arg[KARMA_FLUSH_HC_ARMS], .lost = v->shared->lost,
		.skipped = v->shared->skipped,
	};
	v->flushes++;
	mb->ret[0] = samples_full(v->s) ? 1 : 0;
	return KVM_HC_CONTINUE;
}

static int on_calib(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)value;
	struct karma_vmm *v = arg;
	struct kvm_mailbox *mb = kvm_vm_mailbox(vcpu->vm);
	v->exit_entry_min_cycles = mb->arg[0];
	v->exit_entry_cycles = mb->arg[1];
	/* a short case: flush once it has all it needs, not after a full batch */
	uint64_t want = v->s->cap == UINT64_MAX ? BATCH : v->s->cap + v->s->warmup_target;
	mb->ret[0] = want < BATCH ? want : BATCH;
	return KVM_HC_CONTINUE;
}

static int on_nop(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)vcpu;
	(void)value;
	((struct karma_vmm *)arg)->nop_exits++;
	return KVM_HC_CONTINUE;
}

static void read_stats(struct karma_vmm *v, uint64_t *exits, uint64_t *irq_exits, uint64_t *io_exits)
{
	if (!v->has_stats)
		return;
	if (kvm_stats_get(&v->stats, "exits", exits) != 0 || kvm_stats_get(&v->stats, "irq_exits", irq_exits) != 0 ||
	    kvm_stats_get(&v->stats, "io_exits", io_exits) != 0)
		v->has_stats = false;
}

int karma_vmm_run(struct karma_vmm *v, struct samples *s)
{
	v->s = s;
	if (kvm_vcpu_bind_thread(&v->g.vcpu, -1, 0) != 0)
		return vwhy(v, BENCH_FAIL, "vCPU thread: %s", v->g.vcpu.why);
	struct kvm_dispatch d = { 0 };
	if (kvm_dispatch_add(&d, KARMA_HC_ARM, on_arm, v) || kvm_dispatch_add(&d, KARMA_HC_FLUSH, on_flush, v) ||
	    kvm_dispatch_add(&d, KARMA_HC_CALIB, on_calib, v) || kvm_dispatch_add(&d, KARMA_HC_NOP, on_nop, v))
		return vwhy(v, BENCH_FAIL, "hypercall table full");
	struct kvm_exit_state st = { 0 };
	read_stats(v, &v->exits0, &v->irq_exits0, &v->io_exits0);
	while (kvm_run_loop(&v->g.vcpu, &d, &st, &v->stop_request) != KVM_LOOP_ENDED)
		;
	read_stats(v, &v->exits1, &v->irq_exits1, &v->io_exits1);
	v->s = NULL;
	if (v->thread_why[0])
		return vwhy(v, BENCH_FAIL, "%s", v->thread_why);
	if (st.status == KVM_GUEST_STOPPED && st.stop_code == 2)
		return vwhy(v, BENCH_SKIP, "the guest's CPUID has no x2APIC (needed for interrupt delivery)");
	if (st.status == KVM_GUEST_STOPPED && st.stop_code == 3)
		return vwhy(v, BENCH_SKIP, "the guest's CPUID has no TSC-deadline timer (KVM_CAP_TSC_DEADLINE_TIMER)");
	if (st.status != KVM_GUEST_STOPPED || st.stop_code != 0) {
		char text[200];
		kvm_exit_describe(&st, text, sizeof(text));
		return vwhy(v, BENCH_FAIL, "%s", text);
	}
	return BENCH_OK;
}

static const char *mode_name(const struct karma_vmm_config *c)
{
	switch (c->mode) {
	case KARMA_TIMER_LAPIC:
		return "KVM in-kernel LAPIC, TSC-deadline mode (KVM's hrtimer; no exit to the VMM)";
	case KARMA_TIMER_PV:
		return c->soft ? "paravirtual: hypercall arms a timerfd, soft triggers injected at once"
			       : "paravirtual: hypercall arms a timerfd, injected by irqfd/MSI";
	case KARMA_TIMER_PV_DEFERRED:
		return "paravirtual, deferred: next deadline in the shared page, re-armed at each expiry";
	}
	return "?";
}

void karma_vmm_report(const struct karma_vmm *v, struct report *r)
{
	const struct karma_guest_counts *c = &v->counts;
	uint64_t khz = v->cfg.tsc_khz;
	report_kv(r, "timer", "%s", mode_name(&v->cfg));
	report_int(r, "periods", (int64_t)c->periods, "periods");
	report_int(r, "missed_periods", (int64_t)c->missed, "periods");
	report_int(r, "early_events", (int64_t)c->early, "");
	report_int(r, "skipped_releases", (int64_t)c->skipped, "periods");
	if (v->cfg.mode != KARMA_TIMER_LAPIC)
		report_int(r, "lost_interrupts", (int64_t)c->lost, "");
	report_int(r, "max_latency_cycles", (int64_t)v->max_cycles, "cycles");
	report_int(r, "exit_entry_ns", (int64_t)karma_cycles_to_ns(v->exit_entry_cycles, khz), "ns");
	report_int(r, "arm_hypercalls", (int64_t)c->hc_arms, "");
	if (c->periods)
		report_real(r, "arm_exits_per_period", (double)c->hc_arms / (double)c->periods, "exits/period");
	if (v->cfg.mode != KARMA_TIMER_LAPIC) {
		report_int(r, "events", (int64_t)__atomic_load_n(&v->shared->fired, __ATOMIC_SEQ_CST), "");
		report_int(r, "soft_triggers", (int64_t)atomic_load(&v->soft), "");
		report_int(r, "hard_triggers", (int64_t)atomic_load(&v->hard), "");
		report_int(r, "host_timer_expiries", (int64_t)atomic_load(&v->expiries), "");
		if (v->cfg.lose_every)
			report_int(r, "interrupts_withheld_by_fault_injection", (int64_t)atomic_load(&v->withheld), "");
	}
	if (v->cfg.mode == KARMA_TIMER_PV_DEFERRED) {
		report_int(r, "deferred_arms", (int64_t)atomic_load(&v->deferred_arms), "");
		report_int(r, "idle_expiries", (int64_t)atomic_load(&v->idle_expiries), "");
	}
	if (v->exits1 >= v->exits0 && v->exits1 && c->periods) {
		report_int(r, "kvm_exits", (int64_t)(v->exits1 - v->exits0), "");
		report_real(r, "kvm_exits_per_period", (double)(v->exits1 - v->exits0) / (double)c->periods, "exits/period");
		report_int(r, "kvm_irq_exits", (int64_t)(v->irq_exits1 - v->irq_exits0), "");
	}
	if (v->cfg.irq_rate) {
		report_int(r, "dev_irqs_sent", (int64_t)atomic_load(&v->dev_sent), "");
		report_int(r, "dev_irqs_handled", (int64_t)c->dev_irqs, "");
		report_int(r, "dev_irqs_in_release_path", (int64_t)c->dev_in_window, "");
		report_int(r, "release_paths_held_back", (int64_t)c->held_back, "");
	}
	if (v->cfg.release_ns || v->cfg.tpr)
		report_int(r, "handler_entry_max_ns",
			   (int64_t)karma_cycles_to_ns(v->shared ? v->shared->entry_max_cycles : 0, khz), "ns");
	if (v->g.vcpu.guest_tsc_khz && v->g.vcpu.guest_tsc_khz != khz)
		report_int(r, "guest_tsc_khz", (int64_t)v->g.vcpu.guest_tsc_khz, "kHz");
}

void karma_vmm_stop(struct karma_vmm *v)
{
	if (!v->started)
		return;
	v->started = false;
	atomic_store(&v->stopping, true);
	if (v->stop_fd >= 0) {
		uint64_t one = 1;
		if (write(v->stop_fd, &one, sizeof(one)) < 0)
			perror("karma: stop eventfd");
	}
	if (v->timer_started)
		pthread_join(v->timer_thread, NULL);
	if (v->dev_started)
		pthread_join(v->dev_thread, NULL);
	if (v->other_started) {
		atomic_store(&v->other_stop, KVM_GUEST_UNRESPONSIVE);
		kvm_vcpu_kick(&v->other.vcpu);
		pthread_join(v->other_thread, NULL);
	}
	v->timer_started = v->dev_started = v->other_started = false;
	if (v->has_stats || v->stats.fd >= 0)
		kvm_stats_close(&v->stats);
	v->has_stats = false;
	int *fds[] = { &v->timer_fd, &v->timer_irq_fd, &v->dev_irq_fd, &v->stop_fd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	kvm_guest_destroy(&v->other);
	kvm_guest_destroy(&v->g);
	v->shared = NULL;
}
