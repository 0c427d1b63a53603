/*
 * The vLib OS, host side: boots the guest, runs its vCPU thread, serves the
 * vLib_listen and map hypercalls, keeps the FIFO of requests, and lets the
 * master deschedule (kick out and park) and resume the guest.
 */
#include "vlib_internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "tsc.h"

extern const unsigned char vlib_guest_image[];
extern const size_t vlib_guest_image_bytes;

static struct vlib_os *ports[VLIB_MAX_PORTS];

struct vlib_os *vlib_os_at_port(int port)
{
	return port >= 0 && port < VLIB_MAX_PORTS ? ports[port] : NULL;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

/* ---- completion (the "completion signal" of the paper) ---- */

static void complete(struct vlib_os *os, struct vlib_req *req, int err)
{
	int expected = REQ_PENDING;
	if (!atomic_compare_exchange_strong(&req->state, &expected, err == VLIB_OK ? REQ_DONE : REQ_CANCELLED))
		return;   /* the client gave up first */
	struct vlib_chan_hdr *hdr = (struct vlib_chan_hdr *)req->ch->mem;
	if (req->cb)
		req->cb(os->cfg.port, err, req->cb_arg);
	else
		atomic_store_explicit((_Atomic uint64_t *)&hdr->done_seq, req->seq, memory_order_release);
}

static void arm_timeout(struct vlib_os *os, uint64_t ns)
{
	if (!os->timer_ok)
		return;
	struct itimerspec its = { .it_value = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) } };
	timer_settime(os->timer, 0, &its, NULL);
}

/* ---- parking (remote deschedule) ---- */

static void park(struct vlib_os *os)
{
	atomic_store(&os->parked_tsc, tsc_end());
	while (atomic_load(&os->desched) && atomic_load(&os->stop) == KVM_GUEST_RUNNING)
		futex_wait(&os->desched, 1);
}

void vlib_os_deschedule(struct vlib_os *os)
{
	atomic_store(&os->parked_tsc, 0);
	atomic_store(&os->desched, 1);
	kvm_vcpu_kick(&os->guest.vcpu);
}

void vlib_os_resume(struct vlib_os *os)
{
	atomic_store(&os->desched_by_timeout, 0);
	atomic_store(&os->desched, 0);
	futex_wake(&os->desched);
}

void vlib_os_timeout_deschedule(struct vlib_os *os)
{
	atomic_store(&os->desched_by_timeout, 1);
	vlib_os_deschedule(os);
}

uint64_t vlib_os_parked_tsc(struct vlib_os *os)
{
	return atomic_load(&os->parked_tsc);
}

uint64_t vlib_os_kick_tsc(struct vlib_os *os)
{
	return atomic_load(&os->guest.vcpu.kick_handled_tsc);
}

uint64_t vlib_os_guest_to_host_tsc(struct vlib_os *os, uint64_t guest_tsc)
{
	return kvm_vcpu_guest_to_host_tsc(&os->guest.vcpu, guest_tsc);
}

/* ---- the queue ---- */

uint64_t vlib_os_enqueue(struct vlib_os *os, struct vlib_channel *ch, uint64_t seq, vlib_callback cb,
			 void *cb_arg, uint64_t timeout_ns, struct vlib_req **out)
{
	uint64_t ticket = atomic_fetch_add(&os->tail, 1);
	struct vlib_req *req = &os->queue[ticket % VLIB_QUEUE_LEN];
	while (atomic_load_explicit(&req->ready, memory_order_acquire) != 0)
		cpu_relax();   /* the ring is full: wait for the server to take this slot's old request */
	((struct vlib_chan_hdr *)ch->mem)->ticket = ticket;
	req->ch = ch;
	req->seq = seq;
	req->cb = cb;
	req->cb_arg = cb_arg;
	req->timeout_ns = timeout_ns;
	atomic_store(&req->state, REQ_PENDING);
	atomic_store_explicit(&req->ready, ticket + 1, memory_order_release);
	if (atomic_load(&os->desched_by_timeout))
		vlib_os_resume(os);   /* a new caller lends the guest its budget */
	if (os->cfg.wait == VLIB_WAIT_BLOCK) {
		atomic_fetch_add(&os->queue_word, 1);
		futex_wake(&os->queue_word);
	}
	*out = req;
	return ticket;
}

/* Wait in the host (the vCPU is not running) until the next request is published. */
static struct vlib_req *next_request(struct vlib_os *os)
{
	for (;;) {
		struct vlib_req *req = &os->queue[os->head % VLIB_QUEUE_LEN];
		uint32_t word = atomic_load(&os->queue_word);
		if (atomic_load_explicit(&req->ready, memory_order_acquire) == os->head + 1) {
			os->head++;
			return req;
		}
		if (atomic_load(&os->stop) != KVM_GUEST_RUNNING)
			return NULL;
		if (os->cfg.wait == VLIB_WAIT_BLOCK)
			futex_wait(&os->queue_word, word);
		else
			cpu_relax();
	}
}

/* ---- hypercalls ---- */

static int on_listen(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)value;
	struct vlib_os *os = arg;
	if (os->current) {
		arm_timeout(os, 0);
		struct vlib_req *done = os->current;
		os->current = NULL;
		complete(os, done, VLIB_OK);
		atomic_store_explicit(&done->ready, 0, memory_order_release);   /* the slot is free */
		os->served++;
	}
	for (;;) {
		struct vlib_req *req = next_request(os);
		if (!req)
			return KVM_HC_CONTINUE;   /* stopping: the run loop sees the stop request */
		if (atomic_load(&req->state) != REQ_PENDING) {   /* timed out before it started */
			atomic_store_explicit(&req->ready, 0, memory_order_release);
			continue;
		}
		os->current = req;
		if (req->timeout_ns)
			arm_timeout(os, req->timeout_ns);
		struct kvm_mailbox *mb = kvm_vm_mailbox(vcpu->vm);
		mb->ret[VLIB_RET_HDR_GPA] = req->ch->gpa;
		mb->ret[VLIB_RET_NEEDS_MAP] = req->ch->slot < 0;
		mb->ret[VLIB_RET_CHANNEL] = req->ch->index;
		return KVM_HC_CONTINUE;
	}
}

/* The guest's first use of a channel: add its memory slot (the EPT mapping). */
static int on_map(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)value;
	struct vlib_os *os = arg;
	uint64_t index = kvm_vm_mailbox(vcpu->vm)->arg[0];
	struct vlib_channel *ch = index < VLIB_MAX_CHANNELS ? &os->channels[index] : NULL;
	if (!ch || !ch->in_use)
		return KVM_HC_CONTINUE;   /* the guest will fault on the unbacked address: a status names it */
	if (ch->slot < 0) {
		ch->slot = kvm_vm_map(vcpu->vm, ch->gpa, ch->mem, ch->mem_bytes);
		if (ch->slot < 0)
			fprintf(stderr, "vlib: %s\n", vcpu->vm->why);
		os->maps++;
	}
	return KVM_HC_CONTINUE;
}

/* An async request ran past its timeout: tell its caller, park the guest. */
static void check_async_timeout(struct vlib_os *os)
{
	struct vlib_req *req = os->current;
	if (!req || !req->cb || !req->timeout_ns)
		return;
	struct itimerspec left;
	if (os->timer_ok && timer_gettime(os->timer, &left) == 0 && (left.it_value.tv_sec || left.it_value.tv_nsec))
		return;   /* kicked for another reason */
	complete(os, req, VLIB_ETIMEDOUT);
	atomic_store(&os->desched_by_timeout, 1);
	atomic_store(&os->desched, 1);
}

static void *vcpu_thread(void *arg)
{
	struct vlib_os *os = arg;
	struct kvm_vcpu *vcpu = &os->guest.vcpu;
	if (kvm_vcpu_bind_thread(vcpu, os->cfg.cpu, os->cfg.priority) != 0) {
		snprintf(os->end_text, sizeof(os->end_text), "vCPU thread: %.150s", vcpu->why);
		atomic_store(&os->started, -1);
		return NULL;
	}
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = kvm_kick_signal() };
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);   /* sigev_notify_thread_id */
	os->timer_ok = timer_create(CLOCK_MONOTONIC, &sev, &os->timer) == 0;
	atomic_store(&os->started, 1);
	for (;;) {
		if (atomic_load(&os->desched) && atomic_load(&os->stop) == KVM_GUEST_RUNNING)
			park(os);
		int rc = kvm_run_loop(vcpu, &os->dispatch, &os->exit, &os->stop);
		if (rc == KVM_LOOP_ENDED)
			break;
		if (rc == KVM_LOOP_KICKED)
			check_async_timeout(os);
	}
	if (os->timer_ok)
		timer_delete(os->timer);
	kvm_exit_describe(&os->exit, os->end_text, sizeof(os->end_text));
	atomic_store(&os->ended, 1);
	return NULL;
}

bool vlib_os_ended(struct vlib_os *os, char *buf, size_t len)
{
	if (!atomic_load(&os->ended))
		return false;
	if (buf)
		snprintf(buf, len, "%s", os->end_text);
	return true;
}

struct vlib_os *vlib_os_start(const struct vlib_os_config *cfg, char *why, size_t why_len)
{
	if (cfg->port < 0 || cfg->port >= VLIB_MAX_PORTS || ports[cfg->port]) {
		snprintf(why, why_len, "port %d is taken or out of [0, %d)", cfg->port, VLIB_MAX_PORTS);
		return NULL;
	}
	struct vlib_os *os = calloc(1, sizeof(*os));
	if (!os) {
		snprintf(why, why_len, "out of memory");
		return NULL;
	}
	os->cfg = *cfg;
	pthread_mutex_init(&os->lock, NULL);
	struct kvm_boot_info boot = { .magic = KVM_BOOT_MAGIC, .program = cfg->program, .ram_bytes = cfg->ram_bytes,
				      .tsc_khz = cfg->tsc_khz, .arg = { cfg->program_arg } };
	if (kvm_guest_boot(&os->guest, cfg->ram_bytes, vlib_guest_image, vlib_guest_image_bytes, &boot, why, why_len)) {
		vlib_os_stop(os);
		return NULL;
	}
	kvm_dispatch_add(&os->dispatch, VLIB_HC_LISTEN, on_listen, os);
	kvm_dispatch_add(&os->dispatch, VLIB_HC_MAP, on_map, os);
	int err = pthread_create(&os->thread, NULL, vcpu_thread, os);
	if (err) {
		snprintf(why, why_len, "cannot start the vCPU thread: %s", strerror(err));
		vlib_os_stop(os);
		return NULL;
	}
	os->thread_started = true;
	while (atomic_load(&os->started) == 0)
		usleep(100);
	if (atomic_load(&os->started) < 0) {
		snprintf(why, why_len, "%s", os->end_text);
		vlib_os_stop(os);
		return NULL;
	}
	ports[cfg->port] = os;
	return os;
}

void vlib_os_stop(struct vlib_os *os)
{
	if (!os)
		return;
	if (os->thread_started) {
		int expected = KVM_GUEST_RUNNING;
		atomic_compare_exchange_strong(&os->stop, &expected, KVM_GUEST_STOPPED);
		atomic_fetch_add(&os->queue_word, 1);
		futex_wake(&os->queue_word);
		futex_wake(&os->desched);
		kvm_vcpu_kick(&os->guest.vcpu);
		pthread_join(os->thread, NULL);
	}
	if (ports[os->cfg.port] == os)
		ports[os->cfg.port] = NULL;
	for (unsigned i = 0; i < VLIB_MAX_CHANNELS; i++)
		if (os->channels[i].mem)
			munmap(os->channels[i].mem, os->channels[i].mem_bytes);
	kvm_guest_destroy(&os->guest);
	pthread_mutex_destroy(&os->lock);
	free(os);
}

struct vlib_channel *vlib_os_channel_new(struct vlib_os *os, size_t data_bytes)
{
	pthread_mutex_lock(&os->lock);
	struct vlib_channel *ch = NULL;
	for (unsigned i = 0; i < VLIB_MAX_CHANNELS && !ch; i++)
		if (!os->channels[i].in_use && !os->channels[i].mem)
			ch = &os->channels[i];
	if (ch) {
		size_t bytes = VLIB_HDR_BYTES + ((data_bytes + 4095) & ~(size_t)4095);
		/* private anonymous memory: client and vCPU thread share one process */
		void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (mem == MAP_FAILED) {
			ch = NULL;
		} else {
			ch->in_use = true;
			ch->index = (unsigned)(ch - os->channels);
			ch->mem = mem;
			ch->mem_bytes = bytes;
			ch->slot = -1;
			ch->gpa = VLIB_CHANNEL_GPA(ch->index);
		}
	}
	pthread_mutex_unlock(&os->lock);
	return ch;
}

void vlib_os_channel_free(struct vlib_os *os, struct vlib_channel *ch)
{
	pthread_mutex_lock(&os->lock);
	if (ch->slot >= 0 && kvm_vm_unmap(&os->guest.vm, ch->slot) == 0)
		ch->slot = -1;
	if (ch->slot < 0) {   /* still mapped (unmap failed): keep the memory for the guest */
		munmap(ch->mem, ch->mem_bytes);
		ch->mem = NULL;
	}
	ch->in_use = false;
	pthread_mutex_unlock(&os->lock);
}

void vlib_os_report(struct vlib_os *os, struct report *r)
{
	report_int(r, "guest_tsc_offset", os->guest.vcpu.tsc_offset, "cycles");
	report_kv(r, "guest_tsc_offset_how", "%s",
		  os->guest.vcpu.tsc_offset_set ? "set to 0 via KVM_VCPU_TSC_OFFSET" : "read via KVM_VCPU_TSC_OFFSET");
	report_int(r, "guest_tsc_khz", (int64_t)os->guest.vcpu.guest_tsc_khz, "kHz");
	report_int(r, "vlib_requests_served", (int64_t)os->served, "");
	report_kv(r, "vlib_wait", "%s", os->cfg.wait == VLIB_WAIT_POLL ? "poll (vCPU thread spins in the host while the guest listens)"
							: "block (vCPU thread sleeps on a futex while the guest listens)");
}
