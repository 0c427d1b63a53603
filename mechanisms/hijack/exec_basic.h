/* The basic executive: pass every interposed call, or emulate it with a value. */
#pragma once
#include "executive.h"

enum hj_action { HJ_ACTION_PASS, HJ_ACTION_EMULATE };

struct hj_basic_state {
	int action;            /* enum hj_action */
	long emulate_value;    /* what an emulated call returns (write: its length) */
	int fault;             /* enum hj_fault */
	uint64_t fault_after;  /* calls before the fault */
	uint64_t seen;
	uint64_t bytes_read;   /* emulated writes whose buffer the executive could read */
};

/* st and count must live where the executive runs and the guest can read (shared memory). */
void hj_basic_init(struct executive *ex, struct hj_basic_state *st, struct hj_counters *count,
		   enum hj_action action, long emulate_value, enum hj_fault fault, uint64_t fault_after);
