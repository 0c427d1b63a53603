/*
 * hijackcos on the AOS side: the AOS is a guest of the KVM substrate
 * (guest/cos.c on mechanisms/kvm/guest/aos.h) on its own vCPU, driven by a
 * host thread; Linux is the host. aos_vm.c boots it and runs that thread,
 * aos_invoke.c holds Table I's experiments, aos_translator.c Table II's.
 */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../kvm/kvm_boot.h"
#include "../kvm/kvm_runloop.h"
#include "aos_abi.h"
#include "hijackcos.h"
#include "../../loadgen/compile/project_dirs.h"
#include "scratch.h"

/* Seeds the host plants in the components' private pages (B returns seed + arg). */
#define COS_SEED_A 0x5eeda00000000000ull
#define COS_SEED_B 0x5eedb00000000000ull

/* The mechanism's one config struct: the Linux side's, then the AOS experiments' options. */
struct hjc_cfg_all {
	struct hjc_cfg hjc;
	int64_t msg_bytes;   /* translator: payload of each message */
	int64_t gap_us;      /* translator: pause after each message, so the receiver blocks again */
	bool tsc_check;      /* translator: placement_tsc_check before one-way deltas */
	int64_t units;       /* compile: translation units of the generated project */
	int64_t jobs;        /* compile: make -j */
};

/* compile.c: the build's scratch folder. */
struct hjc_compile_state {
	struct project_dirs dirs;
};

/* Where the vCPU thread stands (aos_vm.c). */
enum aos_vcpu_phase {
	AOS_PHASE_BOOTING = 0,   /* running, no command asked for yet */
	AOS_PHASE_AWAITING,      /* the guest asked for a command (COS_HC_CMD) */
	AOS_PHASE_RUNNING,       /* a command was given */
	AOS_PHASE_ENDED,         /* the guest ended (st says how) */
};

struct aos_state {
	struct kvm_guest g;
	bool booted;
	uint32_t program;
	struct kvm_dispatch d;
	struct kvm_exit_state st;
	_Atomic int stop;                /* a kvm_guest_status: ends the run loop */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool sync_init;
	enum aos_vcpu_phase phase;       /* under mu */
	uint64_t cmd[3];                 /* under mu: the next command (mailbox.ret) */
	pthread_t thread;
	bool thread_started;
	int vcpu_cpu, vcpu_priority;
	char thread_why[256];
	int irq_efd, bell_efd;           /* -1 or 0 (zeroed priv) when unused: see have_* */
	bool have_irq_efd, have_bell_efd;
	struct cos_shared *sh;           /* in guest RAM */
	struct aos_ring *to_aos, *from_aos;
	uint64_t batch[2];               /* invocation: commands run, samples asked */
	struct mech_ctx *ctx;            /* the case (set by aos_vm_boot), for waits inside path callbacks */
	uint32_t net_seq;                /* cosnet: the AOS's reply to the latest packet: its seq, */
	bool net_ours;                   /* and whether it was the experiment's packet */
	void *shared_mem;                /* aos_vm_boot_at(shared_slot): COS_SHARED_BYTES, MAP_SHARED */
	int result_efd, stop_efd;        /* translator path: forwarder -> measuring thread; teardown -> forwarder */
	bool have_result_efd, have_stop_efd;
	struct peer forwarder;           /* translator path: the Linux process between TUN and the AOS */
	bool forwarder_started;
};

/*
 * ctx->priv of every hijackcos experiment: the Linux side's state first (the
 * response paths take ctx->priv as a struct hjc_state), then the AOS's (the
 * cosnet path uses both).
 */
struct hjc_priv_all {
	struct hjc_state hjc;
	struct aos_state aos;
	struct hjc_compile_state compile;
};

static inline struct aos_state *aos_priv(struct mech_ctx *ctx)
{
	return &((struct hjc_priv_all *)ctx->priv)->aos;
}

/* From the Linux side's state of the same case (the first member of struct hjc_priv_all). */
static inline struct aos_state *aos_of_hjc(struct hjc_state *st)
{
	return &((struct hjc_priv_all *)(void *)st)->aos;
}

/* aos_vm.c */
/* Boot the AOS with `program` (not running yet); BENCH_OK or FAIL with ctx->why. */
int aos_vm_boot(struct mech_ctx *ctx, struct aos_state *a, uint32_t program);
/* The same; shared_slot: struct cos_shared and the rings in a MAP_SHARED slot (a forked process sees them). */
int aos_vm_boot_at(struct mech_ctx *ctx, struct aos_state *a, uint32_t program, bool shared_slot);
/* Start its vCPU thread on cpu at priority. */
int aos_vm_launch(struct mech_ctx *ctx, struct aos_state *a, int cpu, int priority);
/* Translator programs: wait for cos_shared.ready (SKIP where the guest has no x2APIC). */
int aos_vm_wait_ready(struct mech_ctx *ctx, struct aos_state *a);
enum aos_vcpu_phase aos_vm_phase(struct aos_state *a);
void aos_vm_describe_end(struct aos_state *a, char *buf, size_t len);
/* COS_PROG_INVOKE: run one command of n samples; BENCH_OK or BENCH_FAIL (where it stopped in ctx->why). */
int aos_vm_command(struct mech_ctx *ctx, struct aos_state *a, uint64_t cmd, uint64_t n, uint64_t expect_seed);
/* Wait (up to the case's timeout) for the guest to end by itself; BENCH_OK when it stopped with code 0. */
int aos_vm_wait_end(struct mech_ctx *ctx, struct aos_state *a);
/* Stop the guest (if running) and join its thread; the VM stays. */
void aos_vm_stop_thread(struct aos_state *a);
/* Stop the guest (if running), join the thread, destroy the VM. Safe twice, safe after a failed start. */
void aos_vm_stop(struct aos_state *a);
/* process -> AOS: irq_efd, an irqfd whose MSI is COS_IRQ_VECTOR on the AOS's vCPU (SKIP where KVM refuses). */
int aos_vm_irq_in(struct mech_ctx *ctx, struct aos_state *a);
/* AOS -> process: bell_efd, an ioeventfd on the CPL 3 form of COS_HC_DOORBELL (SKIP where KVM refuses). */
int aos_vm_doorbell(struct mech_ctx *ctx, struct aos_state *a);
/*
 * Block until efd can be read and read its count, waiting at most until
 * aos_deadline_ns(ctx): 1, 0 on timeout (errno ETIMEDOUT), -1 (errno).
 */
int aos_wait_eventfd(const struct mech_ctx *ctx, int efd, uint64_t *count);
/* Guest TSC -> host TSC. */
uint64_t aos_vm_host_tsc(const struct aos_state *a, uint64_t guest_tsc);
/* The longest the host waits for the AOS at one step (a command, a message). */
#define AOS_WAIT_MAX_NS 10000000000ull
/* When a wait for the AOS gives up: half the case's timeout (at most AOS_WAIT_MAX_NS) from now, CLOCK_MONOTONIC ns. */
uint64_t aos_deadline_ns(const struct mech_ctx *ctx);
uint64_t aos_now_ns(void);

/* aos_invoke.c: Table I */
int aos_invoke_setup(struct mech_ctx *ctx);
int aos_invoke_measure(struct mech_ctx *ctx, struct samples *s);
int aos_invoke_shared_measure(struct mech_ctx *ctx, struct samples *s);
int aos_hw_syscalls_measure(struct mech_ctx *ctx, struct samples *s);
int aos_hw_cr3_measure(struct mech_ctx *ctx, struct samples *s);
void aos_teardown(struct mech_ctx *ctx);

/* aos_translator.c: Table II */
int aos_to_aos_setup(struct mech_ctx *ctx);
int aos_to_aos_measure(struct mech_ctx *ctx, struct samples *s);
int aos_from_aos_setup(struct mech_ctx *ctx);
int aos_from_aos_measure(struct mech_ctx *ctx, struct samples *s);
extern const struct opt_desc aos_translator_opts[];

/* aos_cosnet.c: Table III, AOS via cosnet (a receiver path of response.c) */
int aos_cosnet_open(struct mech_ctx *ctx, struct hjc_state *st);
ssize_t aos_cosnet_wait(struct hjc_state *st, uint64_t *woke_tsc);
int aos_cosnet_accept(struct hjc_state *st, size_t len, uint32_t *seq);
void aos_cosnet_teardown(struct mech_ctx *ctx);
/* Table III, AOS via the translator: a forwarder process reads the TUN device and uses the translator. */
int aos_fwd_open(struct mech_ctx *ctx, struct hjc_state *st);
ssize_t aos_fwd_wait(struct hjc_state *st, uint64_t *woke_tsc);
int aos_fwd_reply(struct hjc_state *st, size_t len);

/* compile.c: Table I's compile with and without interposition (no AOS: it is the Linux side's) */
extern const struct opt_desc hjc_compile_opts[];
int hjc_compile_probe(struct mech_ctx *ctx);
int hjc_compile_setup(struct mech_ctx *ctx);
int hjc_compile_bpf_measure(struct mech_ctx *ctx, struct samples *s);
int hjc_compile_notify_measure(struct mech_ctx *ctx, struct samples *s);
void hjc_compile_teardown(struct mech_ctx *ctx);
