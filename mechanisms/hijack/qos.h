/* Experiment 4's shared state: the receiving tasks and the token executive (qos.c, qos_exec.c). */
#pragma once
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "executive.h"
#include "tokens.h"

#define QOS_TASKS 4
#define QOS_MAX_INTERVALS 1024
#define QOS_LAT_MAX 8192

struct qos_task {
	_Atomic pid_t pid;
	int64_t start_offset_ns;            /* after t0 */
	uint64_t packets;
	uint64_t max_gap_ns;
	uint64_t recv_errors;
	uint32_t packets_per_interval[QOS_MAX_INTERVALS];
	uint32_t max_gap_us[QOS_MAX_INTERVALS];
	uint32_t lat_count;
	uint64_t lat_cycles[QOS_LAT_MAX];   /* send TSC to receive TSC, the case's samples */
};

struct qos_shared {
	_Atomic int go;                     /* t0 is set: tasks may start */
	_Atomic int stop;
	_Atomic int exec_ready;
	_Atomic int exec_failed;
	int64_t t0_ns, end_ns, interval_ns;
	int64_t work_ns;
	struct qos_task task[QOS_TASKS];
	struct hj_tokens tokens;
	uint64_t grants[QOS_TASKS];
	uint64_t notifications;
	uint64_t run_timeouts;              /* a granted task not back within the executive's bound */
	uint64_t be_grants_with_tokens;     /* best-effort grants while a task with tokens was not ready */
};

/* The token executive's process body: serves the listener fd (seccomp-notify) for the tasks. */
int hj_qos_executive_main(struct qos_shared *sh, int listener, const int *socks);
