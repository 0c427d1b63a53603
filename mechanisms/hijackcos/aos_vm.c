/*
 * The AOS guest's host side: boot the cos image (guest/cos.c), plant the
 * components' seeds, set up the translator's memory, and run the vCPU on a
 * thread of its own. With COS_PROG_INVOKE the guest asks for commands
 * (COS_HC_CMD); the thread hands it the one aos_vm_command posted. Every
 * wait has the case's timeout; a guest that stops answering is stopped
 * (kick) and the case fails saying where.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "aos_host.h"

extern const unsigned char cos_guest_image[];
extern const size_t cos_guest_image_bytes;

uint64_t aos_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t aos_deadline_ns(const struct mech_ctx *ctx)
{
	/* Half the case's timeout, at most AOS_WAIT_MAX_NS: the case ends with our reason, not the harness's kill. */
	uint64_t wait = ctx->timeout_ns ? ctx->timeout_ns / 2 : AOS_WAIT_MAX_NS;
	return aos_now_ns() + (wait < AOS_WAIT_MAX_NS ? wait : AOS_WAIT_MAX_NS);
}

uint64_t aos_vm_host_tsc(const struct aos_state *a, uint64_t guest_tsc)
{
	return kvm_vcpu_guest_to_host_tsc(&a->g.vcpu, guest_tsc);
}

static int on_cmd(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)vcpu;
	(void)arg;
	(void)value;
	return KVM_HC_RETURN;
}

static void set_phase(struct aos_state *a, enum aos_vcpu_phase p)
{
	pthread_mutex_lock(&a->mu);
	a->phase = p;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

static void *vcpu_main(void *arg)
{
	struct aos_state *a = arg;
	if (kvm_vcpu_bind_thread(&a->g.vcpu, a->vcpu_cpu, a->vcpu_priority) != 0) {
		snprintf(a->thread_why, sizeof(a->thread_why), "%s", a->g.vcpu.why);
		a->st.status = KVM_GUEST_HOST_ERROR;
		set_phase(a, AOS_PHASE_ENDED);
		return NULL;
	}
	for (;;) {
		int rc = kvm_run_loop(&a->g.vcpu, &a->d, &a->st, &a->stop);
		if (rc == KVM_LOOP_ENDED)
			break;
		if (rc != KVM_LOOP_RETURNED)
			continue;   /* kicked: the loop looks at stop itself */
		/* COS_HC_CMD: wait for the next command, or a stop. */
		pthread_mutex_lock(&a->mu);
		a->phase = AOS_PHASE_AWAITING;
		pthread_cond_broadcast(&a->cv);
		while (a->phase == AOS_PHASE_AWAITING && atomic_load(&a->stop) == KVM_GUEST_RUNNING)
			pthread_cond_wait(&a->cv, &a->mu);
		struct kvm_mailbox *mb = kvm_vm_mailbox(&a->g.vm);
		memcpy(mb->ret, a->cmd, sizeof(a->cmd));
		pthread_mutex_unlock(&a->mu);
	}
	set_phase(a, AOS_PHASE_ENDED);
	return NULL;
}

static void plant(struct aos_state *a, uint64_t gpa, uint64_t seed)
{
	struct cos_private *p = kvm_vm_gpa(&a->g.vm, gpa);
	p->seed = seed;
	p->b_calls = 0;
}

int aos_vm_boot(struct mech_ctx *ctx, struct aos_state *a, uint32_t program)
{
	return aos_vm_boot_at(ctx, a, program, false);
}

int aos_vm_boot_at(struct mech_ctx *ctx, struct aos_state *a, uint32_t program, bool shared_slot)
{
	struct kvm_boot_info boot = { .magic = KVM_BOOT_MAGIC, .program = program, .ram_bytes = COS_RAM_BYTES,
				      .tsc_khz = ctx->tsc ? ctx->tsc->tsc_khz : 0 };
	char why[256];
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* deadlines are aos_now_ns() based */
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	a->sync_init = true;
	a->program = program;
	a->ctx = ctx;
	a->booted = true;
	if (kvm_guest_boot(&a->g, COS_RAM_BYTES, cos_guest_image, cos_guest_image_bytes, &boot, why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_FAIL, "AOS guest: %s", why);
	plant(a, COS_PRIV_A_GPA, COS_SEED_A);
	plant(a, COS_PRIV_B_GPA, COS_SEED_B);
	uint8_t *base = kvm_vm_gpa(&a->g.vm, COS_SHARED_GPA);
	if (shared_slot) {
		/* The rings in memory a forked process shares (guest RAM is private to this one). */
		void *mem = mmap(NULL, COS_SHARED_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			return mech_why_errno(ctx, BENCH_FAIL, "shared memory for the translator's rings");
		a->shared_mem = mem;
		if (kvm_vm_map(&a->g.vm, KVM_SLOT_WINDOW_GPA, mem, COS_SHARED_BYTES) < 0)
			return mech_why(ctx, BENCH_FAIL, "map the translator's rings into the AOS: %s", a->g.vm.why);
		/* the boot info is in RAM already: arg[0] tells the guest where the rings are */
		((struct kvm_boot_info *)kvm_vm_gpa(&a->g.vm, KVM_BOOT_INFO_GPA))->arg[0] = KVM_SLOT_WINDOW_GPA;
		base = mem;
	}
	a->sh = (struct cos_shared *)base;
	a->to_aos = (struct aos_ring *)(base + COS_TO_AOS_RING_OFF);
	a->from_aos = (struct aos_ring *)(base + COS_FROM_AOS_RING_OFF);
	memset(a->sh, 0, sizeof(*a->sh));
	aos_ring_init(a->to_aos, COS_RING_SLOTS);
	aos_ring_init(a->from_aos, COS_RING_SLOTS);
	if (kvm_dispatch_add(&a->d, COS_HC_CMD, on_cmd, a) != 0)
		return mech_why(ctx, BENCH_FAIL, "AOS guest: dispatch table full");
	return BENCH_OK;
}

int aos_vm_launch(struct mech_ctx *ctx, struct aos_state *a, int cpu, int priority)
{
	a->vcpu_cpu = cpu;
	a->vcpu_priority = priority;
	int err = pthread_create(&a->thread, NULL, vcpu_main, a);
	if (err)
		return mech_why(ctx, BENCH_FAIL, "AOS vCPU thread: %s", strerror(err));
	a->thread_started = true;
	return BENCH_OK;
}

static void describe_end(struct aos_state *a, char *buf, size_t len)
{
	if (a->thread_why[0]) {
		snprintf(buf, len, "%.*s", (int)(len > 0 ? len - 1 : 0), a->thread_why);
		return;
	}
	kvm_exit_describe(&a->st, buf, len);
}

/* Wait under mu until the phase is one of want (a bitmask of 1 << phase) or the deadline; returns the phase. */
static enum aos_vcpu_phase wait_phase(struct aos_state *a, unsigned want, uint64_t deadline_ns)
{
	struct timespec until = { .tv_sec = (time_t)(deadline_ns / 1000000000ull),
				  .tv_nsec = (long)(deadline_ns % 1000000000ull) };
	while (!((1u << a->phase) & want))
		if (pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT)
			break;
	return a->phase;
}

static const char *cmd_name(uint64_t cmd)
{
	switch (cmd) {
	case COS_CMD_INVOKE: return "invocation";
	case COS_CMD_INVOKE_SHARED: return "invocation on shared tables";
	case COS_CMD_SYSCALLS: return "two system calls";
	case COS_CMD_CR3: return "two CR3 writes";
	case COS_CMD_STOP: return "stop";
	}
	return "?";
}

int aos_vm_command(struct mech_ctx *ctx, struct aos_state *a, uint64_t cmd, uint64_t n, uint64_t expect_seed)
{
	uint64_t deadline = aos_deadline_ns(ctx);
	char how[200];
	pthread_mutex_lock(&a->mu);
	enum aos_vcpu_phase p = wait_phase(a, 1u << AOS_PHASE_AWAITING | 1u << AOS_PHASE_ENDED, deadline);
	if (p == AOS_PHASE_AWAITING) {
		a->cmd[0] = cmd;
		a->cmd[1] = n;
		a->cmd[2] = expect_seed;
		a->phase = AOS_PHASE_RUNNING;
		pthread_cond_broadcast(&a->cv);
		if (cmd == COS_CMD_STOP) {
			pthread_mutex_unlock(&a->mu);
			return BENCH_OK;
		}
		p = wait_phase(a, 1u << AOS_PHASE_AWAITING | 1u << AOS_PHASE_ENDED, deadline);
	}
	pthread_mutex_unlock(&a->mu);
	a->batch[0]++;
	a->batch[1] += n;
	if (p == AOS_PHASE_AWAITING)
		return BENCH_OK;
	if (p == AOS_PHASE_ENDED) {
		describe_end(a, how, sizeof(how));
		return mech_why(ctx, BENCH_FAIL, "AOS ended during command %llu (%s, %llu samples): %s",
				(unsigned long long)a->batch[0], cmd_name(cmd), (unsigned long long)n, how);
	}
	return mech_why(ctx, BENCH_FAIL, "AOS did not answer command %llu (%s, %llu samples) within the case's "
			"timeout: guest stopped answering", (unsigned long long)a->batch[0], cmd_name(cmd),
			(unsigned long long)n);
}

int aos_vm_wait_ready(struct mech_ctx *ctx, struct aos_state *a)
{
	uint64_t deadline = aos_deadline_ns(ctx);
	char how[200];
	while (__atomic_load_n(&a->sh->ready, __ATOMIC_ACQUIRE) == 0) {
		pthread_mutex_lock(&a->mu);
		enum aos_vcpu_phase p = a->phase;
		pthread_mutex_unlock(&a->mu);
		if (p == AOS_PHASE_ENDED) {
			if (a->st.status == KVM_GUEST_STOPPED && a->st.stop_code == COS_STOP_NO_X2APIC)
				return mech_why(ctx, BENCH_SKIP, "the AOS guest's CPUID has no x2APIC: no interrupt "
						"can reach it");
			describe_end(a, how, sizeof(how));
			return mech_why(ctx, BENCH_FAIL, "AOS ended before it was ready: %s", how);
		}
		if (aos_now_ns() > deadline)
			return mech_why(ctx, BENCH_FAIL, "AOS not ready within the case's timeout");
		usleep(1000);
	}
	return BENCH_OK;
}

enum aos_vcpu_phase aos_vm_phase(struct aos_state *a)
{
	pthread_mutex_lock(&a->mu);
	enum aos_vcpu_phase p = a->phase;
	pthread_mutex_unlock(&a->mu);
	return p;
}

void aos_vm_describe_end(struct aos_state *a, char *buf, size_t len)
{
	describe_end(a, buf, len);
}

int aos_vm_wait_end(struct mech_ctx *ctx, struct aos_state *a)
{
	char how[200];
	pthread_mutex_lock(&a->mu);
	enum aos_vcpu_phase p = wait_phase(a, 1u << AOS_PHASE_ENDED, aos_deadline_ns(ctx));
	pthread_mutex_unlock(&a->mu);
	if (p != AOS_PHASE_ENDED)
		return mech_why(ctx, BENCH_FAIL, "AOS did not stop within the case's timeout");
	if (a->st.status != KVM_GUEST_STOPPED || a->st.stop_code != 0) {
		describe_end(a, how, sizeof(how));
		return mech_why(ctx, BENCH_FAIL, "AOS ended: %s", how);
	}
	return BENCH_OK;
}

void aos_vm_stop_thread(struct aos_state *a)
{
	if (a->thread_started) {
		int expected = KVM_GUEST_RUNNING;
		atomic_compare_exchange_strong(&a->stop, &expected, KVM_GUEST_UNRESPONSIVE);
		pthread_mutex_lock(&a->mu);
		pthread_cond_broadcast(&a->cv);
		pthread_mutex_unlock(&a->mu);
		kvm_vcpu_kick(&a->g.vcpu);
		pthread_join(a->thread, NULL);
		a->thread_started = false;
	}
}

void aos_vm_stop(struct aos_state *a)
{
	aos_vm_stop_thread(a);
	if (a->have_irq_efd)
		close(a->irq_efd);
	if (a->have_bell_efd)
		close(a->bell_efd);
	a->have_irq_efd = a->have_bell_efd = false;
	if (a->booted)
		kvm_guest_destroy(&a->g);
	a->booted = false;
	if (a->shared_mem)
		munmap(a->shared_mem, COS_SHARED_BYTES);
	a->shared_mem = NULL;
	a->sh = NULL;
	if (a->sync_init) {
		pthread_cond_destroy(&a->cv);
		pthread_mutex_destroy(&a->mu);
		a->sync_init = false;
	}
}

int aos_wait_eventfd(const struct mech_ctx *ctx, int efd, uint64_t *count)
{
	uint64_t deadline = aos_deadline_ns(ctx), now = aos_now_ns();
	struct pollfd p = { .fd = efd, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, now < deadline ? (int)((deadline - now) / 1000000u) + 1 : 0)) < 0 && errno == EINTR)
		now = aos_now_ns();
	if (r < 0)
		return -1;
	if (r == 0) {
		errno = ETIMEDOUT;
		return 0;
	}
	return read(efd, count, sizeof(*count)) == (ssize_t)sizeof(*count) ? 1 : -1;
}

int aos_vm_irq_in(struct mech_ctx *ctx, struct aos_state *a)
{
	a->irq_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->irq_efd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "eventfd");
	a->have_irq_efd = true;
	if (kvm_vm_route_msi(&a->g.vm, COS_IRQ_GSI, a->g.vcpu.id, COS_IRQ_VECTOR) != 0 ||
	    kvm_vm_irqfd(&a->g.vm, COS_IRQ_GSI, a->irq_efd, true) != 0)
		return mech_why(ctx, BENCH_SKIP, "irqfd into the AOS: %s", a->g.vm.why);
	return BENCH_OK;
}

int aos_vm_doorbell(struct mech_ctx *ctx, struct aos_state *a)
{
	a->bell_efd = eventfd(0, EFD_CLOEXEC);
	if (a->bell_efd < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "eventfd");
	a->have_bell_efd = true;
	if (kvm_vm_ioeventfd_mmio(&a->g.vm, KVM_HC_MMIO_GPA + 4ull * COS_HC_DOORBELL, 4, a->bell_efd, true) != 0)
		return mech_why(ctx, BENCH_SKIP, "ioeventfd doorbell: %s", a->g.vm.why);
	return BENCH_OK;
}
