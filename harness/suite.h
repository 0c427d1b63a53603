/*
 * Suites: TOML files describing cases. A case names a mechanism, maybe a
 * variant, its settings (the case keys below), mechanism options and a load.
 * Any scalar key given as a list sweeps: the case expands into one case per
 * value (several lists: every combination).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loadgen.h"
#include "mechanism.h"
#include "pmu.h"
#include "refs.h"
#include "registry.h"

/* More cases than this in one suite is a mistake in a sweep, not a plan. */
#define SUITE_MAX_CASES 10000
/* [suite] include = [...] nests at most this deep. */
#define SUITE_MAX_INCLUDE_DEPTH 8
/* A duration_s case's timeout must leave this much for setup and teardown. */
#define SUITE_DURATION_SLACK_S 10
/* More samples than this are streamed (80 MB of raw values), not kept. */
#define SUITE_KEEP_SAMPLES_MAX 10000000

/* Settings every case has; documented in case_settings_opts (harness list). */
struct case_settings {
	int64_t samples;          /* samples kept after warm-up */
	int64_t repeat;           /* repetitions, each its own child process, interleaved across the suite */
	int64_t duration_s;       /* > 0: measure for this long instead of `samples` (streamed) */
	bool keep_samples;        /* false: stream into a histogram (constant memory) */
	int64_t stream_interval_ms;      /* streamed cases: one summary row per interval */
	int64_t warmup;           /* samples discarded first */
	bool warmup_set;          /* a suite's [defaults] or the case named warmup (else the mechanism's default) */
	int64_t timeout_s;        /* SIGTERM, then SIGKILL after the grace period */
	int64_t priority;         /* SCHED_FIFO priority, 0 = SCHED_OTHER */
	int64_t cpu;              /* measuring CPU, -1 = the last online CPU */
	int64_t peer_cpu;         /* peer CPU, -1 = the first online CPU other than cpu */
	bool mlock;
	bool dma_latency;
	bool degrade;             /* run even where the real-time environment was refused */
	int64_t timer_slack_ns;
	char reference[OPT_STR_MAX];  /* id of a row of a reference-data/ CSV file, "" = none */
	int ref_stat;                 /* enum ref_stat: which statistic stands beside it */
	char stand_in[OPT_STR_MAX];   /* what stands in for the paper's mechanism, "" = the same thing */
};
extern const struct opt_desc case_settings_opts[];
/* Keys with their own meaning in a [[case]] table (name, mechanism, variant, load, load_opts, pmu). */
extern const char *const case_special_keys[];

struct case_spec {
	char name[160];
	int line;                               /* where the case was written */
	int ref_line;                           /* where its reference was named */
	const struct mechanism_ops *mech;
	int variant;
	void *mech_cfg;                          /* mech->cfg_size bytes */
	char params[512];                        /* "key=value ..." of options set */
	struct case_settings set;
	const struct loadgen_ops *load;          /* NULL: no load */
	void *load_cfg;
	char load_desc[256];                     /* "none" or "name key=value ..." */
	char pmu_events[PMU_MAX_EVENTS][PMU_NAME_MAX];
	unsigned n_pmu;
};

struct suite {
	char path[1024];
	char name[128];
	char *description;                       /* malloc'ed, NULL when the suite has none */
	char sha256_hex[65];
	struct case_spec *cases;
	size_t n_cases, cases_cap;
	struct refs refs;                        /* loaded when a case names a reference */
};

/*
 * Load and validate a suite. On error returns -1 with one line
 * "PATH:LINE: key 'KEY': what is wrong" in err.
 */
int suite_load(const char *path, struct suite *s, char *err, size_t err_len);
void suite_free(struct suite *s);
/* Keep only cases whose name matches the fnmatch pattern. */
void suite_filter(struct suite *s, const char *pattern);
