/*
 * Karma's VMM techniques on the KVM substrate (mechanisms/kvm): a guest
 * running the real-time loop (guest/karma_guest.c), and on the host
 *
 *   - the paravirtual timer: KARMA_HC_ARM arms a timerfd (a host hrtimer)
 *     that a timer thread waits on, at the case's priority + 1 on the
 *     vCPU's CPU (the host timer interrupt preempts the guest, as the
 *     HPET's does Fiasco's); each expiry injects the timer vector through
 *     an irqfd routed as an MSI;
 *   - deferred re-arming: at each expiry the timer thread takes the next
 *     deadline from the shared page (karma_deferred.h) and arms it after
 *     injecting, so the guest re-arms without an exit;
 *   - soft triggers: a deadline closer than the measured exit + entry
 *     round trip is injected at once (karma_calc.h);
 *   - a device-interrupt load: a thread that raises a lower-priority vector
 *     at a set rate through a second irqfd;
 *   - another VM: a second guest running a load on the vCPU's CPU.
 *
 * One struct karma_vmm per case; start, run (on the measuring thread, which
 * becomes the vCPU thread), stop. stop is safe after a failed start and safe
 * twice.
 */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../kvm/kvm_boot.h"
#include "../kvm/kvm_runloop.h"
#include "../kvm/kvm_stats.h"
#include "karma_abi.h"
#include "report.h"
#include "samples.h"

enum karma_other_load { KARMA_OTHER_NONE = 0, KARMA_OTHER_SPIN, KARMA_OTHER_MEM };

struct karma_vmm_config {
	enum karma_timer_mode mode;
	bool soft;                    /* soft triggers on (PV modes) */
	uint64_t period_ns;
	uint64_t near_every, near_ns; /* every Nth period a deadline near_ns from the request (0: never) */
	uint64_t release_ns;          /* guest release path after the handler (0: none) */
	uint64_t dev_work_ns;         /* the guest's device handler's work */
	bool tpr;                     /* the guest raises the TPR for the release path */
	uint64_t irq_rate;            /* device interrupts per second (0: no device load) */
	uint64_t lose_every;          /* fault injection: every Nth timer event's interrupt withheld (0: none) */
	enum karma_fault fault;       /* fault injection (karma_abi.h), striking after fault_after periods */
	uint64_t fault_after;
	enum karma_other_load other;
	uint64_t other_bytes;         /* KARMA_OTHER_MEM: bytes the other VM walks */
	int other_cpu;                /* the other VM's vCPU thread's CPU (-1: unpinned), SCHED_OTHER */
	int cpu, peer_cpu, priority;
	uint64_t tsc_khz;             /* host TSC frequency for conversions */
};

/* What the guest reported with its latest flush. */
struct karma_guest_counts {
	uint64_t periods, missed, early, dev_irqs, dev_in_window, held_back, hc_arms, lost, skipped;
};

struct karma_vmm {
	struct karma_vmm_config cfg;
	bool started;                 /* karma_vmm_start ran (stop has something to undo) */
	struct kvm_guest g;
	struct karma_shared *shared;
	struct kvm_stats stats;
	bool has_stats;
	int timer_fd, timer_irq_fd, dev_irq_fd, stop_fd;
	pthread_t timer_thread, dev_thread, other_thread;
	bool timer_started, dev_started, other_started;
	_Atomic bool stopping;
	_Atomic int stop_request;     /* the vCPU loop's (a thread that failed ends the case) */
	/* counted by the VMM */
	_Atomic uint64_t soft, hard, expiries, deferred_arms, idle_expiries, dev_sent, withheld;
	uint64_t exit_entry_min_cycles, exit_entry_cycles;   /* the guest's calibration (median used) */
	uint64_t flushes, nop_exits;
	uint64_t max_cycles;          /* the largest latency recorded, guest cycles */
	uint64_t exits0, exits1, irq_exits0, irq_exits1, io_exits0, io_exits1;
	struct karma_guest_counts counts;
	struct samples *s;            /* during run */
	/* the other VM */
	struct kvm_guest other;
	_Atomic int other_stop;
	struct kvm_exit_state other_st;
	char thread_why[160];         /* a helper thread's failure */
	char why[256];
};

int karma_vmm_start(struct karma_vmm *v, const struct karma_vmm_config *cfg);
/*
 * Run the guest on the calling thread until s is full. BENCH_OK, or
 * BENCH_SKIP / BENCH_FAIL with the reason in v->why.
 */
int karma_vmm_run(struct karma_vmm *v, struct samples *s);
void karma_vmm_report(const struct karma_vmm *v, struct report *r);
void karma_vmm_stop(struct karma_vmm *v);
