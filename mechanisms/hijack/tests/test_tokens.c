/* Unit test of the QoS executive's token accounting. */
#include <math.h>
#include <stdio.h>

#include "../qos_shares.h"
#include "../tokens.h"

#include "check.h"

/*
 * A receiving CPU that delivers `capacity(k)` packets in period k, four
 * tasks always waiting with data: the packets each task gets over periods
 * [from, to). The capacity swings between 30 and 90 packets (other load
 * taking the CPU), far below the 168 static tokens of task 0 at 42,000/s.
 */
static unsigned capacity(unsigned k)
{
	return 30 + (k * 7919u) % 61u;
}

static void simulate(struct hj_tokens *t, unsigned from, unsigned to, double *share)
{
	static uint32_t per_period[4][2000];
	const uint32_t *rows[4] = { per_period[0], per_period[1], per_period[2], per_period[3] };
	bool all[4] = { true, true, true, true };
	const int64_t period_ns = 10000000;

	for (unsigned k = 0; k < to && k < 2000; k++) {
		for (int i = 0; i < 4; i++)
			per_period[i][k] = 0;
		for (unsigned p = 0; p < capacity(k); p++) {
			int pick = hj_tokens_pick(t, all);
			if (pick < 0)
				break;
			hj_tokens_charge(t, pick);
			per_period[pick][k]++;
		}
		hj_tokens_tick(t, (int64_t)(k + 1) * period_ns);
	}
	CHECK(hj_qos_shares(4, rows, from, to, share));
}

static void check_policies(void)
{
	const int64_t pct[4] = { 40, 30, 20, 0 }, from_rate[4] = { 168, 126, 84, 0 };
	const double target[4] = { 0.4, 0.3, 0.2, 0 };
	struct hj_tokens t;
	double share[4];
	int worst_task;

	/* the appendix literally: tokens from the rate never run out, task 0 takes (nearly) all */
	hj_tokens_init(&t, 4, from_rate, 10000000, 0);
	simulate(&t, 500, 1500, share);
	printf("static:   %.3f %.3f %.3f %.3f\n", share[0], share[1], share[2], share[3]);
	CHECK(share[0] > 0.9);
	/* adaptive: the targets within 5% (relative) once settled, the rest to best effort */
	hj_tokens_init_adaptive(&t, 4, pct, from_rate, 10000000, 0);
	simulate(&t, 500, 1500, share);
	double worst = hj_qos_worst_rel_error(4, share, target, &worst_task);
	printf("adaptive: %.3f %.3f %.3f %.3f (worst %.3f, task %d)\n", share[0], share[1], share[2], share[3],
	       worst, worst_task);
	CHECK(worst < 0.05);
	CHECK(share[0] > share[1] && share[1] > share[2] && share[3] > 0.05 && share[3] < 0.15);
}

static void check_adaptive_pick(void)
{
	const int64_t pct[4] = { 40, 30, 20, 0 }, init[4] = { 4, 3, 2, 0 };
	bool all[4] = { true, true, true, true }, no_be[4] = { true, false, true, false };
	struct hj_tokens t;

	hj_tokens_init_adaptive(&t, 4, pct, init, 1000, 0);
	/* the most tokens left (as a fraction) first: 4/4 = 3/3 = 2/2, task 0 by order; then 3/3 */
	CHECK(hj_tokens_pick(&t, all) == 0);
	hj_tokens_charge(&t, 0);
	CHECK(hj_tokens_pick(&t, all) == 1);
	hj_tokens_charge(&t, 1);
	CHECK(hj_tokens_pick(&t, all) == 2);   /* 2/2 > 3/4, 2/3 */
	/* work-conserving: out of tokens and best effort idle, a ready task still runs */
	t.cur[0] = t.cur[1] = t.cur[2] = 0;
	CHECK(hj_tokens_pick(&t, no_be) == 0);
	CHECK(hj_tokens_pick(&t, all) == 3);
	/* and the next period holds tokens again, from what was granted (2 + 1 + 1 packets, x pct) */
	hj_tokens_tick(&t, 1000);
	CHECK(t.cur[0] >= 1 && t.cur[1] >= 1 && t.cur[2] >= 1);
}

int main(void)
{
	struct hj_tokens t;
	const int64_t init[4] = { 2, 1, 0, 0 };
	bool all[4] = { true, true, true, true };
	bool only_be[4] = { false, false, false, true };
	bool none[4] = { false, false, false, false };

	hj_tokens_init(&t, 4, init, 1000, 0);
	/* task 0 first while it has tokens, then task 1, then best effort */
	CHECK(hj_tokens_pick(&t, all) == 0);
	hj_tokens_charge(&t, 0);
	CHECK(hj_tokens_pick(&t, all) == 0);
	hj_tokens_charge(&t, 0);
	CHECK(hj_tokens_pick(&t, all) == 1);
	hj_tokens_charge(&t, 1);
	CHECK(hj_tokens_pick(&t, all) == 3);   /* task 2 has no tokens at all */
	hj_tokens_charge(&t, 3);               /* best effort never pays */
	CHECK(hj_tokens_pick(&t, all) == 3);
	CHECK(hj_tokens_pick(&t, none) == -1);
	CHECK(hj_tokens_pick(&t, only_be) == 3);
	CHECK(hj_tokens_eligible(&t, 3) && !hj_tokens_eligible(&t, 0));
	/* no refresh before the period ends; one refresh after, even if late */
	hj_tokens_tick(&t, 999);
	CHECK(t.cur[0] == 0 && t.refreshes == 0);
	hj_tokens_tick(&t, 3500);
	CHECK(t.cur[0] == 2 && t.cur[1] == 1 && t.refreshes == 1);
	CHECK(t.next_refresh_ns == 4000);
	hj_tokens_charge(&t, 0);
	hj_tokens_tick(&t, 3999);
	CHECK(t.cur[0] == 1);
	/* parsing */
	int64_t pct[3];
	CHECK(hj_tokens_parse_pct("40,30,20", pct, 3) == 0 && pct[0] == 40 && pct[2] == 20);
	CHECK(hj_tokens_parse_pct("40,30", pct, 3) == -1);
	CHECK(hj_tokens_parse_pct("40,30,20,1", pct, 3) == -1);
	CHECK(hj_tokens_parse_pct("40,130,20", pct, 3) == -1);
	check_policies();
	check_adaptive_pick();
	if (check_failures)
		fprintf(stderr, "%d check_failures\n", check_failures);
	else
		printf("tokens: ok\n");
	return check_failures ? 1 : 0;
}
