/* The MMPP schedule (mmpp_model.h). */
#include "mmpp_model.h"

#include <math.h>
#include <string.h>

double mmpp_uniform(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;   /* (k + 0.5) / 2^53 */
}

static double exponential_us(uint64_t *rng, double mean_us)
{
	return -log(mmpp_uniform(rng)) * mean_us;
}

/* Draw the next arrival after t in the current state (memoryless: redrawn at each state change). */
static void draw_job(struct mmpp_gen *g)
{
	uint64_t rate_mhz = g->burst ? g->p.burst_rate_mhz : g->p.quiet_rate_mhz;

	g->next_job_us = rate_mhz ? g->t_us + exponential_us(&g->rng, 1e9 / (double)rate_mhz) : INFINITY;
}

static void enter_state(struct mmpp_gen *g, bool burst)
{
	g->burst = burst;
	g->state_end_us = g->t_us + exponential_us(&g->rng, (double)(burst ? g->p.burst_mean_us : g->p.quiet_mean_us));
	draw_job(g);
}

void mmpp_init(struct mmpp_gen *g, const struct mmpp_params *p)
{
	memset(g, 0, sizeof(*g));
	g->p = *p;
	g->rng = p->seed;
	enter_state(g, false);
}

void mmpp_next(struct mmpp_gen *g, struct mmpp_event *ev)
{
	if (g->next_job_us < g->state_end_us) {
		g->t_us = g->next_job_us;
		ev->type = MMPP_JOB;
		draw_job(g);
	} else {
		g->t_us = g->state_end_us;
		ev->type = g->burst ? MMPP_BURST_END : MMPP_BURST_START;
		enter_state(g, !g->burst);
	}
	ev->t_us = (uint64_t)g->t_us;
}

double mmpp_burst_fraction(const struct mmpp_params *p, uint64_t span_us)
{
	struct mmpp_gen g;
	struct mmpp_event ev;
	uint64_t in_burst_us = 0, start_us = 0;
	bool burst = false;

	if (span_us == 0)
		return 0.0;
	mmpp_init(&g, p);
	for (;;) {
		mmpp_next(&g, &ev);
		if (ev.type == MMPP_JOB)
			continue;
		uint64_t t = ev.t_us < span_us ? ev.t_us : span_us;
		if (burst)
			in_burst_us += t - start_us;
		if (ev.t_us >= span_us)
			break;
		burst = ev.type == MMPP_BURST_START;
		start_us = t;
	}
	return (double)in_burst_us / (double)span_us;
}
