/* Token accounting of the QoS executive (see tokens.h). */
#include "tokens.h"

#include <stdlib.h>
#include <string.h>

void hj_tokens_init(struct hj_tokens *t, unsigned tasks, const int64_t *init, int64_t period_ns, int64_t now_ns)
{
	memset(t, 0, sizeof(*t));
	t->tasks = tasks > HJ_TOKENS_MAX_TASKS ? HJ_TOKENS_MAX_TASKS : tasks;
	for (unsigned i = 0; i < t->tasks; i++)
		t->init[i] = t->cur[i] = init[i];
	t->period_ns = period_ns;
	t->next_refresh_ns = now_ns + period_ns;
}

void hj_tokens_tick(struct hj_tokens *t, int64_t now_ns)
{
	if (now_ns < t->next_refresh_ns)
		return;
	memcpy(t->cur, t->init, sizeof(t->cur));
	t->refreshes++;
	/* the next boundary after now: a stalled executive does not refresh in a burst */
	int64_t behind = (now_ns - t->next_refresh_ns) / t->period_ns;
	t->next_refresh_ns += (behind + 1) * t->period_ns;
}

bool hj_tokens_eligible(const struct hj_tokens *t, int i)
{
	return (unsigned)i + 1 == t->tasks || t->cur[i] > 0;
}

int hj_tokens_pick(const struct hj_tokens *t, const bool *ready)
{
	if (t->tasks == 0)
		return -1;
	for (unsigned i = 0; i + 1 < t->tasks; i++)
		if (ready[i] && t->cur[i] > 0)
			return (int)i;
	return ready[t->tasks - 1] ? (int)t->tasks - 1 : -1;
}

void hj_tokens_charge(struct hj_tokens *t, int i)
{
	if ((unsigned)i + 1 < t->tasks && t->cur[i] > 0)
		t->cur[i]--;
}

int hj_tokens_parse_pct(const char *text, int64_t *pct, unsigned n)
{
	const char *p = text;
	for (unsigned i = 0; i < n; i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 0 || v > 100)
			return -1;
		pct[i] = v;
		if (i + 1 < n) {
			if (*end != ',')
				return -1;
			p = end + 1;
		} else if (*end != '\0') {
			return -1;
		}
	}
	return 0;
}
