/*
 * The executive interface: the one API every Hijack transport calls.
 *
 * A guest's interposed system call reaches the executive as a struct
 * hj_call (number, six arguments, the guest thread). The executive answers
 * with one of three verdicts:
 *
 *   HJ_PASS      the kernel runs the call as the guest made it
 *   HJ_EMULATE   the call is not run; the guest sees *ret as its result
 *   HJ_BLOCK     the executive holds the guest: the transport calls
 *                exec->block(), which returns once the executive lets the
 *                guest go (having slept, busy-waited, or changed the guest's
 *                scheduling); its return value is the guest's result
 *
 * on_return() is optional and only reached by transports that see a passed
 * call come back (sud, seccomp-trap, ptrace; not seccomp-notify, whose
 * CONTINUE hands the call to the kernel for good).
 *
 * A guest marks the calls it wants interposed by putting HJ_COOKIE in
 * argument 5 (no call the guest makes uses it); the seccomp filters match on
 * it, so the executive's own calls and the harness's are never caught. An
 * executive that passes a call clears the cookie first.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HJ_COOKIE 0x48696a61636b2121L   /* "Hijack!!" */

enum hj_verdict { HJ_PASS, HJ_EMULATE, HJ_BLOCK };

struct hj_call {
	long nr;
	long args[6];
	pid_t tid;   /* the guest thread that made the call */
	/*
	 * Copy len bytes of guest memory at addr into buf; 0, or -1 when the
	 * memory cannot be read or the answer cannot be trusted (seccomp-notify:
	 * the call was no longer valid after the read). Provided by the transport.
	 */
	int (*read_guest)(const struct hj_call *c, uintptr_t addr, void *buf, size_t len);
	const void *transport;   /* the transport's own, for read_guest */
};

/*
 * What the executive counts; lives in memory shared by guest and executive
 * (the executive may be another process), so the guest can check it.
 */
struct hj_counters {
	uint64_t calls;       /* interposed calls the executive saw */
	uint64_t passed;
	uint64_t emulated;
	uint64_t blocked;
	uint64_t returns;     /* on_return() calls */
	uint64_t boosts;      /* priority raises (nanosleep executives) */
	uint64_t busy_waits;  /* busy-waited sleeps (Hijack Extended) */
	uint64_t target_reads;/* guest memory reads confirmed by NOTIF_ID_VALID */
	int64_t last_error;   /* an errno the executive hit, 0 if none */
};

struct executive {
	const char *name;
	void *state;                /* the executive's own; in shared memory */
	struct hj_counters *count;  /* shared */
	enum hj_verdict (*on_syscall)(void *state, const struct hj_call *c, long *ret);
	long (*block)(void *state, const struct hj_call *c);                 /* for HJ_BLOCK */
	void (*on_return)(void *state, const struct hj_call *c, long ret);  /* may be NULL */
};

/* One decision, counted: what every transport calls. */
enum hj_verdict hj_exec_decide(const struct executive *ex, const struct hj_call *c, long *ret);
/* The same for a passed call coming back. */
void hj_exec_returned(const struct executive *ex, const struct hj_call *c, long ret);

/*
 * Fault injection, for the tests: after `after_calls` interposed calls the
 * executive hangs (never answers) or the guest kills itself.
 */
enum hj_fault { HJ_FAULT_NONE, HJ_FAULT_GUEST_DIES, HJ_FAULT_EXECUTIVE_HANGS };
