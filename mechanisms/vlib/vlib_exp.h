/* The experiments of mechanism vlib (one file each), and their shared state (ctx->priv). */
#pragma once
#include "mechanism.h"
#include "vlib.h"
#include "../kvm/kvm_boot.h"
#include "../kvm/kvm_floor.h"

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
	int64_t corunner_kb;    /* 0: twice the LLC (vlib_corunner_bytes) */
	int64_t periods_paper;  /* lidar: the paper's period count, for the report */
	int lidar_in;           /* lidar: 0 host, 1 guest */
	int64_t corunner_budget_pct;
	int64_t corunner_period_ms;
};

/* ctx->priv (the harness allocates it zeroed: priv_size). */
struct vlib_state {
	struct vlib_os *os;
	struct kvm_guest guest;      /* experiment 1 and the fault variant run a bare program */
	void *channel;
	struct kvm_floor floor;      /* the KVM floor VM (exp_trip.c), where a variant compares with it */
	bool floor_created;
};

/* Boot the vLib server on port 0 with the case's placement (vCPU on peer_cpu). */
/* report_kv what the numbers stand on: nested virtualization, and PVM where /dev/kvm is kvm_pvm. */
void vlib_exp_report_platform(struct mech_ctx *ctx);
int vlib_exp_start_server(struct mech_ctx *ctx, struct vlib_state *st, int vcpu_priority);
/* ... with at least ram_bytes of guest RAM. */
int vlib_exp_start_server_ram(struct mech_ctx *ctx, struct vlib_state *st, int vcpu_priority, uint64_t ram_bytes);

/*
 * How long a co-runner in the guest may take to see its stop request: one
 * column or round, which under emulation (TCG, a software KVM) with the
 * array's first touch faulting page by page takes seconds.
 */
#define VLIB_STOP_WAIT_S 10

/* The periods' clock (CLOCK_MONOTONIC) and absolute sleeps (exp_corunner.c). */
uint64_t vlib_now_ns(void);
void vlib_sleep_until_ns(uint64_t t);
/*
 * A co-runner in the vLib OS guest on port 0: an endless async vLib call
 * doing `op` over `arg` (VLIB_OP_MJUMP, VLIB_OP_CORUNNER), *done set when it
 * returns. _stop asks it to end and waits VLIB_STOP_WAIT_S; returns rc, or a
 * failure when rc was ok and it did not end.
 */
int vlib_exp_guest_corunner_start(struct mech_ctx *ctx, uint32_t op, uint64_t arg, _Atomic int *done,
				  struct vlib_chan_hdr **hdr);
int vlib_exp_guest_corunner_stop(struct mech_ctx *ctx, struct vlib_chan_hdr *hdr, _Atomic int *done, int rc);

/* Boot the vLib guest image into g running `program` with arg[0] = arg (the case's RAM). */
int vlib_exp_boot(struct mech_ctx *ctx, struct kvm_guest *g, uint32_t program, uint64_t arg);

/* n round trips of the KVM floor into v (host cycles around KVM_RUN); 0, or -1 with why. */
int vlib_floor_series(struct kvm_floor *f, uint64_t *v, size_t n, char *why, size_t why_len);
/* p50 of n floor trips, creating st->floor on first use. */
int vlib_exp_floor_p50(struct mech_ctx *ctx, struct vlib_state *st, size_t n, uint64_t *p50);
void vlib_exp_floor_destroy(struct vlib_state *st);

/* Each variant's measure(), named by its row in vlib_mech.c. */
int exp_vmexit_exit_measure(struct mech_ctx *ctx, struct samples *s);
int exp_vmexit_entry_measure(struct mech_ctx *ctx, struct samples *s);
int exp_fault_measure(struct mech_ctx *ctx, struct samples *s);
int exp_kvm_floor_measure(struct mech_ctx *ctx, struct samples *s);
int exp_trip_cpl0_pio_measure(struct mech_ctx *ctx, struct samples *s);
int exp_trip_cpl0_mmio_measure(struct mech_ctx *ctx, struct samples *s);
int exp_trip_cpl3_mmio_measure(struct mech_ctx *ctx, struct samples *s);
int exp_trip_cpl3_stamped_measure(struct mech_ctx *ctx, struct samples *s);
int exp_trip_runloop_measure(struct mech_ctx *ctx, struct samples *s);
int exp_call_sync_measure(struct mech_ctx *ctx, struct samples *s);
int exp_call_async_measure(struct mech_ctx *ctx, struct samples *s);
int exp_desched_measure(struct mech_ctx *ctx, struct samples *s);
int exp_mapping_measure(struct mech_ctx *ctx, struct samples *s);
int exp_timeout_measure(struct mech_ctx *ctx, struct samples *s);
int exp_fifo_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_alone_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_guest_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_host_measure(struct mech_ctx *ctx, struct samples *s);
int exp_membus_host_throttled_measure(struct mech_ctx *ctx, struct samples *s);

int exp_lidar_alone_measure(struct mech_ctx *ctx, struct samples *s);
int exp_lidar_corunner_measure(struct mech_ctx *ctx, struct samples *s);
int exp_lidar_guest_corunner_measure(struct mech_ctx *ctx, struct samples *s);
int exp_lidar_throttled_measure(struct mech_ctx *ctx, struct samples *s);
/* Table 3: always a skip, with the reason. */
int exp_gpu_probe(struct mech_ctx *ctx);

/* The last-level cache in bytes from sysfs (0 when it does not say). */
uint64_t vlib_llc_bytes(void);
/* The co-runner's array: corunner_kb, or (0) twice the LLC, or VLIB_CORUNNER_DEFAULT_BYTES where unknown. */
#define VLIB_CORUNNER_DEFAULT_BYTES (64ull << 20)
uint64_t vlib_corunner_bytes(int64_t corunner_kb);
/* Guest RAM for a vLib OS whose co-runner walks `array_bytes` of its free RAM (at least the case's ram_mb). */
uint64_t vlib_ram_for(const struct vlib_cfg *cfg, uint64_t array_bytes);
int exp_membus_throttled_measure(struct mech_ctx *ctx, struct samples *s);
#define VLIB_NESTED_NOTE "measured under nested virtualization (this harness runs in a KVM guest): " \
	"every exit to the VMM goes through L0; compare shapes, not absolute cycles, with the paper"
#define VLIB_PVM_NOTE "PVM (kvm_pvm): software KVM, no VT-x; guest CPL 0 is emulated, so the vLib OS " \
	"serves at CPL 3 (native, shadow paging) with MMIO hypercalls"
