/*
 * The counted entry points every transport calls, and the basic executive
 * of experiments 1 and 2: pass every interposed call, or emulate it.
 */
#include "exec_basic.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum hj_verdict hj_exec_decide(const struct executive *ex, const struct hj_call *c, long *ret)
{
	enum hj_verdict v = ex->on_syscall(ex->state, c, ret);

	ex->count->calls++;
	if (v == HJ_PASS)
		ex->count->passed++;
	else if (v == HJ_EMULATE)
		ex->count->emulated++;
	else
		ex->count->blocked++;
	return v;
}

void hj_exec_returned(const struct executive *ex, const struct hj_call *c, long ret)
{
	ex->count->returns++;
	if (ex->on_return)
		ex->on_return(ex->state, c, ret);
}

/* An executive that never answers again: the guest waits until the case is killed. */
static void hang_forever(void)
{
	for (;;)
		pause();
}

static enum hj_verdict basic_on_syscall(void *state, const struct hj_call *c, long *ret)
{
	struct hj_basic_state *st = state;

	st->seen++;
	if (st->fault == HJ_FAULT_EXECUTIVE_HANGS && st->seen > st->fault_after)
		hang_forever();
	if (st->action == HJ_ACTION_PASS)
		return HJ_PASS;
	switch (c->nr) {
	case SYS_write:
		/* Claim every byte was written, having looked at the first one. */
		if (c->args[2] > 0) {
			char first;
			if (c->read_guest(c, (uintptr_t)c->args[1], &first, 1) == 0)
				st->bytes_read++;
		}
		*ret = c->args[2];
		break;
	default:
		*ret = st->emulate_value;
		break;
	}
	return HJ_EMULATE;
}

void hj_basic_init(struct executive *ex, struct hj_basic_state *st, struct hj_counters *count,
		   enum hj_action action, long emulate_value, enum hj_fault fault, uint64_t fault_after)
{
	memset(st, 0, sizeof(*st));
	st->action = action;
	st->emulate_value = emulate_value;
	st->fault = fault;
	st->fault_after = fault_after;
	*ex = (struct executive){
		.name = action == HJ_ACTION_PASS ? "pass" : "emulate",
		.state = st,
		.count = count,
		.on_syscall = basic_on_syscall,
	};
}
