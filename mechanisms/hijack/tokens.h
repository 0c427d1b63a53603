/*
 * The token-based proportional-share policy of the paper's appendix (the
 * QoS executive): each task has tokens, refreshed every period; among the
 * tasks that are waiting to read and have data (select), one with tokens
 * runs and pays one token per packet; when none qualifies, the best-effort
 * task (the last) runs if it has data. Pure logic, unit-tested
 * (tests/test_tokens.c). Two policies:
 *
 * HJ_TOKENS_STATIC, the appendix read literally: tokens per period fixed
 * from the sender's rate (share x rate x period), the first task in order
 * with tokens runs. When one CPU cannot deliver that many packets in a
 * period (here every packet costs a seccomp notification round trip),
 * task 0 never runs out of tokens and the policy is strict priority
 * (measured: README, "Hijack packet QoS").
 *
 * HJ_TOKENS_ADAPTIVE (gapbench's): the paper gives "tokens proportional to
 * QoS" without saying of what; here a task's tokens are its percent of the
 * packets the executive granted in the period before (all tasks: what the
 * receiving CPU delivered; a moving average), times a scale that an integral controller moves
 * until the best-effort task's share is what the targets leave it (100% -
 * the active tasks' percents), since packets left over in a period go to
 * the best-effort task. Among the ready tasks with tokens, the one with the
 * largest fraction of its period's tokens left runs (not the first), so a
 * period cut short (other load took the CPU) costs every task alike instead
 * of always the last one.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define HJ_TOKENS_MAX_TASKS 8
#define HJ_TOKENS_SCALE_GAIN 0.2    /* scale change per period per unit of best-effort share error */
#define HJ_TOKENS_AVG_PERIODS 8.0   /* the packets per period the tokens are sized from: a moving average */
#define HJ_TOKENS_SCALE_MIN 0.5
#define HJ_TOKENS_SCALE_MAX 4.0

enum hj_tokens_policy { HJ_TOKENS_ADAPTIVE, HJ_TOKENS_STATIC };

struct hj_tokens {
	unsigned tasks;                        /* the last one is best effort */
	enum hj_tokens_policy policy;
	int64_t pct[HJ_TOKENS_MAX_TASKS];      /* share of a period's packets, percent (ADAPTIVE) */
	int64_t init[HJ_TOKENS_MAX_TASKS];     /* tokens of the current period */
	int64_t cur[HJ_TOKENS_MAX_TASKS];
	int64_t period_ns;
	int64_t next_refresh_ns;
	double avg_granted;                    /* ADAPTIVE: packets per period, moving average */
	double scale;                          /* ADAPTIVE: tokens = pct x scale x avg_granted */
	uint64_t refreshes;
	uint64_t granted[HJ_TOKENS_MAX_TASKS]; /* packets granted in the current period, per task */
	uint64_t granted_total;                /* over all periods, all tasks */
	uint64_t exhausted[HJ_TOKENS_MAX_TASKS];   /* periods that ended with task i out of tokens */
};

/* STATIC: init[i] tokens every period, first-fit. */
void hj_tokens_init(struct hj_tokens *t, unsigned tasks, const int64_t *init, int64_t period_ns, int64_t now_ns);
/* ADAPTIVE: pct[i] percent of the packets of the period before; the first period's tokens are init[]. */
void hj_tokens_init_adaptive(struct hj_tokens *t, unsigned tasks, const int64_t *pct, const int64_t *init,
			     int64_t period_ns, int64_t now_ns);
/* Refresh every task's tokens if a period ended (at most once per call; missed periods are skipped). */
void hj_tokens_tick(struct hj_tokens *t, int64_t now_ns);
/* The task to run among those ready (waiting and with data): -1 when none. */
int hj_tokens_pick(const struct hj_tokens *t, const bool *ready);
/* Task i ran for one packet. */
void hj_tokens_charge(struct hj_tokens *t, int i);
/* May task i be granted now (tokens left, or best effort)? */
bool hj_tokens_eligible(const struct hj_tokens *t, int i);
/* Parse "40,30,20" (percent each) into n values; 0, or -1 if malformed or out of [0, 100]. */
int hj_tokens_parse_pct(const char *text, int64_t *pct, unsigned n);
