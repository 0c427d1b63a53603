/*
 * The hijack mechanism's internals: its options (one table for every
 * variant; each option's help says which variants read it) and the
 * experiments the variants dispatch to.
 */
#pragma once
#include <stdint.h>

#include "mechanism.h"
#include "opts.h"
#include "transport.h"

enum hj_syscall { HJ_SYS_GETPPID, HJ_SYS_GETPID, HJ_SYS_WRITE };
enum hj_placement { HJ_PLACE_SAME, HJ_PLACE_SPLIT };
enum hj_transport_id { HJ_T_NONE = -1, HJ_T_SUD, HJ_T_SECCOMP_TRAP, HJ_T_SECCOMP_NOTIFY, HJ_T_PTRACE };
enum hj_timer_wait { HJ_TIMER_SPIN, HJ_TIMER_SLEEP };

struct hijack_cfg {
	/* experiments 1 and 2 */
	int syscall;                   /* enum hj_syscall */
	int action;                    /* enum hj_action */
	int64_t emulate_value;
	int64_t working_set_pages;
	int ws_kind;                   /* enum hj_ws_kind */
	int placement;                 /* enum hj_placement: an executive process's CPU */
	int fault;                     /* enum hj_fault */
	int64_t fault_after;
	/* experiments 3 and 5 */
	int transport;                 /* enum hj_transport_id */
	int64_t sleep_us;
	int64_t busy_wait_threshold_us;
	int64_t boost_priority;
	int64_t period_us;
	int timer_wait;                /* enum hj_timer_wait */
	/* experiment 4 */
	int64_t port;
	int64_t rate;
	int64_t task_start_ms;
	int64_t hold_ms;
	int64_t interval_ms;
	int64_t work_us;
	int64_t token_period_ms;
	char qos[OPT_STR_MAX];
};

extern const struct opt_desc hijack_opts[];
extern const char *const hj_syscall_names[];   /* by enum hj_syscall */

/* The transport a variant or the `transport` option names. */
const struct hj_transport *hj_transport_by_id(int id);

/*
 * Start a transport for the calling (guest) thread with executive ex. The
 * link page is allocated here; placement picks an executive process's CPU.
 */
int hj_session_start(struct mech_ctx *ctx, const struct hj_transport *t, struct hj_session *s,
		     const struct executive *ex, int placement);
void hj_session_stop(const struct hj_transport *t, struct hj_session *s);

/* Experiment 1 and 2: interposed round trip (roundtrip.c). t NULL = native. */
int hj_rt_setup(struct mech_ctx *ctx, const struct hj_transport *t);
int hj_rt_measure(struct mech_ctx *ctx, struct samples *s);
void hj_rt_teardown(struct mech_ctx *ctx);

/* Experiment 3: nanosleep wake-up error (nanosleep.c). */
enum hj_sleep_mode { HJ_SLEEP_LINUX, HJ_SLEEP_HIJACK, HJ_SLEEP_EXTENDED };
int hj_ns_setup(struct mech_ctx *ctx, int mode);
int hj_ns_measure(struct mech_ctx *ctx, struct samples *s);
void hj_ns_teardown(struct mech_ctx *ctx);

/* Experiment 4: packet-stream QoS (qos.c). */
enum hj_qos_scenario { HJ_QOS_SAME, HJ_QOS_INCREASING, HJ_QOS_TOKENS };
int hj_qos_setup(struct mech_ctx *ctx, int scenario);
int hj_qos_measure(struct mech_ctx *ctx, struct samples *s);
void hj_qos_teardown(struct mech_ctx *ctx);

/* Experiment 5: timer expiry to the executive's handler (timer.c). */
int hj_timer_setup(struct mech_ctx *ctx);
int hj_timer_measure(struct mech_ctx *ctx, struct samples *s);
void hj_timer_teardown(struct mech_ctx *ctx);
