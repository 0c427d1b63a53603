/*
 * The hijack mechanism's internals: the one option struct (each experiment
 * has its own table of the fields it reads, hijack.c), each experiment's
 * state (ctx->priv holds one of them: struct hijack_priv), and the ops each
 * variant row names.
 */
#pragma once
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "guest.h"
#include "mechanism.h"
#include "opts.h"
#include "qos.h"
#include "transport.h"

enum hj_syscall { HJ_SYS_GETPPID, HJ_SYS_GETPID, HJ_SYS_WRITE };
enum hj_placement { HJ_PLACE_SAME, HJ_PLACE_SPLIT };
/* Values of the `transport` option (nanosleep-hijack/-extended), in the order of its names. */
enum hj_transport_id { HJ_T_SUD, HJ_T_SECCOMP_TRAP, HJ_T_SECCOMP_NOTIFY, HJ_T_PTRACE };
enum hj_timer_wait { HJ_TIMER_SPIN, HJ_TIMER_SLEEP };

/* Every experiment's options; which experiment reads which: the tables in hijack.c. */
struct hijack_cfg {
	/* round trip (experiments 1 and 2) */
	int syscall;                   /* enum hj_syscall */
	int action;                    /* enum hj_action */
	int64_t emulate_value;
	int64_t working_set_pages;
	int ws_kind;                   /* enum hj_ws_kind */
	int placement;                 /* enum hj_placement: an executive process's CPU (also nanosleep, qos-tokens) */
	int fault;                     /* enum hj_fault */
	int64_t fault_after;
	/* nanosleep (experiment 3) */
	int transport;                 /* enum hj_transport_id */
	int64_t sleep_us;
	int64_t busy_wait_threshold_us;
	int64_t boost_priority;
	/* timer (experiment 5) */
	int64_t period_us;
	int timer_wait;                /* enum hj_timer_wait */
	/* qos (experiment 4) */
	int64_t port;
	int64_t rate;
	int64_t task_start_ms;
	int64_t hold_ms;
	int64_t interval_ms;
	int64_t work_us;
	int64_t token_period_ms;
	char qos[OPT_STR_MAX];
	int token_policy;              /* enum hj_tokens_policy */
	int64_t share_tolerance_pct;
	int64_t task_priority;
};

extern const char *const hj_syscall_names[];   /* by enum hj_syscall */

/* The transport the `transport` option names. */
const struct hj_transport *hj_transport_by_id(int id);

/*
 * Start a transport for the calling (guest) thread with executive ex. The
 * link page is allocated here; placement picks an executive process's CPU.
 */
int hj_session_start(struct mech_ctx *ctx, const struct hj_transport *t, struct hj_session *s,
		     const struct executive *ex, int placement);
void hj_session_stop(const struct hj_transport *t, struct hj_session *s);
/* guest_enter/guest_leave of t, where it has them (t NULL: native, nothing to do). */
void hj_session_enter(const struct hj_transport *t, struct hj_session *s);
void hj_session_leave(const struct hj_transport *t, struct hj_session *s);
/* The executive's counters as facts (executive_calls, ...). */
void hj_report_counters(struct mech_ctx *ctx, const struct hj_counters *c);

/* Experiments 1 and 2: interposed round trip (roundtrip.c). */
struct rt_shared;
struct hj_rt_state {
	bool started;               /* setup ran: teardown has something to undo */
	const struct hj_transport *t;   /* NULL: native */
	struct hj_session sess;
	struct executive exec;
	struct rt_shared *sh;
	struct hj_working_set ws;
	int memfd;
	char byte;
	long nr, a0, a1, a2;
	long expect;
	uint64_t calls;
	int fault;
	uint64_t fault_after;
};
int hj_rt_setup_native(struct mech_ctx *ctx);
int hj_rt_setup_sud(struct mech_ctx *ctx);
int hj_rt_setup_trap(struct mech_ctx *ctx);
int hj_rt_setup_notify(struct mech_ctx *ctx);
int hj_rt_setup_ptrace(struct mech_ctx *ctx);
int hj_rt_measure(struct mech_ctx *ctx, struct samples *s);
void hj_rt_teardown(struct mech_ctx *ctx);

/* Experiment 3: nanosleep wake-up error (nanosleep.c). */
struct ns_shared;
struct hj_ns_state {
	bool started;
	const struct hj_transport *t;   /* NULL: plain Linux */
	struct hj_session sess;
	struct executive exec;
	struct ns_shared *sh;
	int64_t sleep_ns;
	int policy;                 /* the guest's own, restored in teardown */
	struct sched_param param;
	bool saved;
};
int hj_ns_setup_linux(struct mech_ctx *ctx);
int hj_ns_setup_hijack(struct mech_ctx *ctx);
int hj_ns_setup_extended(struct mech_ctx *ctx);
int hj_ns_measure(struct mech_ctx *ctx, struct samples *s);
void hj_ns_teardown(struct mech_ctx *ctx);

/* Experiment 4: packet-stream QoS (qos.c). */
struct hj_qos_state;
struct hj_qos_task_arg {        /* what a receiving task process is started with */
	struct hj_qos_state *qs;
	int index;
};
struct hj_qos_scenario;
struct hj_qos_state {
	bool started;
	const struct hj_qos_scenario *scenario;
	struct qos_shared *sh;
	int socks[QOS_TASKS];
	int listener;
	pid_t exec_pid;
	pid_t pids[QOS_TASKS];
	struct hj_qos_task_arg args[QOS_TASKS];
	unsigned intervals;
	char data_dir[4096];
};
int hj_qos_probe(struct mech_ctx *ctx);
int hj_qos_setup_same(struct mech_ctx *ctx);
int hj_qos_setup_increasing(struct mech_ctx *ctx);
int hj_qos_setup_tokens(struct mech_ctx *ctx);
int hj_qos_measure(struct mech_ctx *ctx, struct samples *s);
void hj_qos_teardown(struct mech_ctx *ctx);

/* Experiment 5: timer expiry to the executive's handler (timer.c). */
struct hj_timer_state {
	_Atomic int64_t handler_ns;  /* the executive's stamp, 0 until it ran */
	timer_t timer;
	bool timer_made, handler_set, mask_set;
	struct sigaction old_act;
	sigset_t old_mask;
	sigset_t wait_mask;     /* everything but the timer's signal blocked while in sigsuspend */
	int wait;               /* enum hj_timer_wait */
	int64_t period_ns;
};
int hj_timer_setup(struct mech_ctx *ctx);
int hj_timer_measure(struct mech_ctx *ctx, struct samples *s);
void hj_timer_teardown(struct mech_ctx *ctx);

/* ctx->priv: one case runs one experiment, so their states share the space. */
struct hijack_priv {
	union {
		struct hj_rt_state rt;
		struct hj_ns_state ns;
		struct hj_qos_state qos;
		struct hj_timer_state timer;
	};
};

static inline struct hijack_priv *hj_priv(struct mech_ctx *ctx)
{
	return ctx->priv;
}
