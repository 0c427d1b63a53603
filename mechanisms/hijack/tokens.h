/*
 * The token-based proportional-share policy of the paper's appendix (the
 * QoS executive): each task has tokens, refreshed every period; among the
 * tasks that are waiting to read and have data (select), the first with
 * tokens runs and pays one token per packet; when none qualifies, the
 * best-effort task (the last) runs if it has data. Pure logic, unit-tested
 * (tests/test_tokens.c).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define HJ_TOKENS_MAX_TASKS 8

struct hj_tokens {
	unsigned tasks;                        /* the last one is best effort */
	int64_t init[HJ_TOKENS_MAX_TASKS];     /* tokens per period */
	int64_t cur[HJ_TOKENS_MAX_TASKS];
	int64_t period_ns;
	int64_t next_refresh_ns;
	uint64_t refreshes;
};

void hj_tokens_init(struct hj_tokens *t, unsigned tasks, const int64_t *init, int64_t period_ns, int64_t now_ns);
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
