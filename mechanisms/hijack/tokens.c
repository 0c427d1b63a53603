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
	t->policy = HJ_TOKENS_STATIC;
	t->scale = 1.0;
}

void hj_tokens_init_adaptive(struct hj_tokens *t, unsigned tasks, const int64_t *pct, const int64_t *init,
			     int64_t period_ns, int64_t now_ns)
{
	hj_tokens_init(t, tasks, init, period_ns, now_ns);
	t->policy = HJ_TOKENS_ADAPTIVE;
	for (unsigned i = 0; i < t->tasks; i++)
		t->pct[i] = pct[i];
}

/* ADAPTIVE: the next period's tokens from what the last `periods` periods granted (a stall spans several). */
static void resize(struct hj_tokens *t, uint64_t periods)
{
	const unsigned be = t->tasks - 1;
	uint64_t all = 0;
	int64_t active_pct = 0;

	for (unsigned i = 0; i < t->tasks; i++)
		all += t->granted[i];
	for (unsigned i = 0; i < be; i++)
		if (t->granted[i])
			active_pct += t->pct[i];
	/* the best-effort task gets what the tokens leave: too much of it means too few tokens, none too many */
	if (all && active_pct) {
		/* weighted by the period's packets against the average: the share that counts is of all packets */
		double err = (double)t->granted[be] / (double)all - (1.0 - (double)active_pct / 100.0);
		double weight = t->avg_granted > 0 ? (double)all / (double)(periods ? periods : 1) / t->avg_granted : 1.0;
		t->scale += HJ_TOKENS_SCALE_GAIN * err * (weight > 4.0 ? 4.0 : weight);
		if (t->scale < HJ_TOKENS_SCALE_MIN)
			t->scale = HJ_TOKENS_SCALE_MIN;
		if (t->scale > HJ_TOKENS_SCALE_MAX)
			t->scale = HJ_TOKENS_SCALE_MAX;
	}
	/* an average over about HJ_TOKENS_AVG_PERIODS periods: one period that other load took does not
	 * starve the next of tokens (the best-effort task would get them) */
	double per_period = (double)all / (double)(periods ? periods : 1);
	t->avg_granted = t->avg_granted > 0 ? t->avg_granted + (per_period - t->avg_granted) / HJ_TOKENS_AVG_PERIODS
					    : per_period;
	for (unsigned i = 0; i < be; i++) {
		int64_t n = (int64_t)(t->avg_granted * t->scale * (double)t->pct[i] / 100.0 + 0.5);
		/* a task with a share never gets zero tokens: it could never show the executive what it can take */
		t->init[i] = n < 1 && t->pct[i] > 0 ? 1 : n;
	}
}

void hj_tokens_tick(struct hj_tokens *t, int64_t now_ns)
{
	if (now_ns < t->next_refresh_ns)
		return;
	/* the next boundary after now: a stalled executive does not refresh in a burst */
	int64_t behind = (now_ns - t->next_refresh_ns) / t->period_ns;
	for (unsigned i = 0; i + 1 < t->tasks; i++)
		if (t->init[i] > 0 && t->cur[i] == 0)
			t->exhausted[i]++;
	if (t->policy == HJ_TOKENS_ADAPTIVE)
		resize(t, (uint64_t)behind + 1);
	memcpy(t->cur, t->init, sizeof(t->cur));
	memset(t->granted, 0, sizeof(t->granted));
	t->refreshes++;
	t->next_refresh_ns += (behind + 1) * t->period_ns;
}

bool hj_tokens_eligible(const struct hj_tokens *t, int i)
{
	return (unsigned)i + 1 == t->tasks || t->cur[i] > 0;
}

int hj_tokens_pick(const struct hj_tokens *t, const bool *ready)
{
	int best = -1;

	if (t->tasks == 0)
		return -1;
	for (unsigned i = 0; i + 1 < t->tasks; i++) {
		if (!ready[i] || t->cur[i] <= 0)
			continue;
		if (t->policy == HJ_TOKENS_STATIC)
			return (int)i;   /* first fit */
		/* the largest fraction of its tokens left: cur[i] / init[i] > cur[best] / init[best] */
		if (best < 0 || t->cur[i] * t->init[best] > t->cur[best] * t->init[i])
			best = (int)i;
	}
	if (best >= 0)
		return best;
	if (ready[t->tasks - 1])
		return (int)t->tasks - 1;
	/*
	 * ADAPTIVE is work-conserving: with the best-effort task idle, a ready task
	 * out of tokens runs rather than the CPU (else the packets granted, hence the
	 * next period's tokens, would shrink period after period).
	 */
	for (unsigned i = 0; i + 1 < t->tasks && t->policy == HJ_TOKENS_ADAPTIVE; i++)
		if (ready[i])
			return (int)i;
	return -1;
}

void hj_tokens_charge(struct hj_tokens *t, int i)
{
	if (i < 0 || (unsigned)i >= t->tasks)
		return;
	t->granted[i]++;
	t->granted_total++;
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
