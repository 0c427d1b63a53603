/* The experiments of mechanism vlib (one file each), and their shared state (ctx->priv). */
#pragma once
#include "mechanism.h"
#include "vlib.h"
#include "../kvm/kvm_boot.h"

/* Every experiment's options; each variant's table names only the fields it reads. */
struct vlib_cfg {
	int64_t channel_bytes;
	int64_t timeout_us;
	int op;                 /* index into vlib_op_names */
	bool verify;
	int wait;               /* enum vlib_wait */
	int64_t clients;
	int fault;              /* enum vlib_fault */
	int64_t u_pct;
	int64_t period_ms;
	int64_t guest_period_ms;
	int64_t mjump_kb;
	int64_t throttle_slack_pct;
	int64_t ram_mb;
};

/* ctx->priv (the harness allocates it zeroed: priv_size). */
struct vlib_state {
	struct vlib_os *os;
	struct kvm_guest guest;      /* experiment 1 and the fault variant run a bare program */
	void *channel;
};

/* Boot the vLib server on port 0 with the case's placement (vCPU on peer_cpu). */
/* report_kv what the numbers stand on: nested virtualization, and PVM where /dev/kvm is kvm_pvm. */
void vlib_exp_report_platform(struct mech_ctx *ctx);
int vlib_exp_start_server(struct mech_ctx *ctx, struct vlib_state *st, int vcpu_priority);

/* Each variant's measure(), named by its row in vlib_mech.c. */
int exp_vmexit_exit_measure(struct mech_ctx *ctx, struct samples *s);
int exp_vmexit_entry_measure(struct mech_ctx *ctx, struct samples *s);
int exp_fault_measure(struct mech_ctx *ctx, struct samples *s);
int exp_call_sync_measure(struct mech_ctx *ctx, struct samples *s);
int exp_call_async_measure(struct mech_ctx *ctx, struct samples *s);
int exp_desched_measure(struct mech_ctx *ctx, struct samples *s);
int exp_mapping_measure(struct mech_ctx *ctx, struct samples *s);
int exp_timeout_measure(struct mech_ctx *ctx, struct samples *s);
int exp_fifo_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_alone_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_guest_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_throttled_measure(struct mech_ctx *ctx, struct samples *s);
#define VLIB_NESTED_NOTE "measured under nested virtualization (this harness runs in a KVM guest): " \
	"every exit to the VMM goes through L0; compare shapes, not absolute cycles, with the paper"
#define VLIB_PVM_NOTE "PVM (kvm_pvm): software KVM, no VT-x; guest CPL 0 is emulated, so the vLib OS " \
	"serves at CPL 3 (native, shadow paging) with MMIO hypercalls"
