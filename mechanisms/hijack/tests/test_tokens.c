/* Unit test of the QoS executive's token accounting. */
#include <stdio.h>

#include "../tokens.h"

#include "check.h"

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
	if (check_failures)
		fprintf(stderr, "%d check_failures\n", check_failures);
	else
		printf("tokens: ok\n");
	return check_failures ? 1 : 0;
}
