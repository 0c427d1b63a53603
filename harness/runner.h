/*
 * Running one case: a child process in its own process group, with a
 * timeout (SIGTERM, grace, SIGKILL). The child applies the real-time
 * environment, runs probe/setup/measure/teardown and writes only raw values
 * into memory shared with the parent; the parent does all the arithmetic.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmu.h"
#include "report.h"
#include "rtenv.h"
#include "samples.h"
#include "suite.h"
#include "tsc.h"

#define RUNNER_GRACE_MS 2000   /* SIGTERM to SIGKILL */
#define RUNNER_REAP_MS 10000   /* SIGKILL to giving up on reaping */
#define RUNNER_PROGRESS_S 10   /* a progress line this often during a long case */

enum case_phase {
	PHASE_STARTED = 0,
	PHASE_PROBE,
	PHASE_LOAD_START,
	PHASE_SETUP,
	PHASE_MEASURE,
	PHASE_TEARDOWN,
	PHASE_LOAD_STOP,
	PHASE_DONE,
};
const char *case_phase_name(int phase);

/* Written by the child, read by the parent. */
struct child_shared {
	volatile int phase;            /* enum case_phase reached */
	volatile int aborted;          /* mech_abort(): rc and why say why, in whatever phase */
	int rc;                        /* enum bench_rc of the case */
	char why[512];
	struct samples s;              /* s.v points just past this struct */
	struct report report;          /* the mechanism's facts */
	struct report load_report;     /* the load generator's achieved load */
	struct rtenv_state rt;
	char ran_without[512];         /* degrade = true: what of the environment was refused; "" = none */
	struct tsc_overhead overhead;  /* probe overhead on the measuring CPU */
	struct pmu_set pmu;
	uint64_t measure_ns;           /* wall time spent in measure() */
};

enum case_status { CS_OK, CS_SKIP, CS_FAIL, CS_TIMEOUT, CS_SIGNAL };

struct case_result {
	enum case_status status;
	char status_text[600];         /* "ok", "skip: why", "fail: why", "timeout", "signal: N" */
	int cpu, peer_cpu;             /* as resolved for this machine */
	double elapsed_s;
	bool leftovers_killed;         /* processes of the case outlived it */
	bool unreaped;                 /* still not dead RUNNER_REAP_MS after SIGKILL */
	uint64_t case_max_rss_kb;      /* peak resident memory of the case process */
	char output_error[300];        /* a file the runner writes (intervals.csv) could not be written */
	struct child_shared *sh;       /* valid until runner_release() */
	size_t sh_len;
};

struct run_env {
	const struct tsc_info *tsc;
	volatile int *interrupted;     /* set by SIGINT/SIGTERM in the harness */
	const char *out_dir;           /* results folder: cases get out_dir/data/CASE/ */
};

/* The probe overhead the parent removes from each cycle sample: the measured minimum where the
   experiment asks for it and the overhead was stable, else 0. */
uint64_t runner_subtract_cycles(const struct case_spec *cs, const struct case_result *r);
/* Whether a case's samples are streamed into a histogram rather than kept (samples.h). */
bool runner_streamed(const struct case_settings *set);
/* Once per process, before the first case: become the subreaper of orphaned peers. */
void runner_init(void);
/* Never fails as a whole: the result's status says what happened. */
void runner_run_case(const struct case_spec *cs, const struct run_env *env, struct case_result *r);
void runner_release(struct case_result *r);
