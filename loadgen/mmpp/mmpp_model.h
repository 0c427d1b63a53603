/*
 * The MMPP disturbance's schedule, pure and reproducible: a two-state
 * Markov-modulated Poisson process. The state alternates quiet -> burst ->
 * quiet ..., each sojourn exponential with its mean (paper: 10 s between
 * bursts, 3 s bursts); in each state CPU jobs arrive as a Poisson process
 * at that state's rate. The same parameters and seed always give the same
 * sequence of events (splitmix64 random numbers), whatever the machine.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct mmpp_params {
	uint64_t quiet_mean_us;     /* mean time between bursts */
	uint64_t burst_mean_us;     /* mean burst length */
	uint64_t quiet_rate_mhz;    /* job arrivals per second x 1000, quiet state */
	uint64_t burst_rate_mhz;    /* job arrivals per second x 1000, burst state */
	uint64_t seed;
};

enum mmpp_event_type { MMPP_BURST_START, MMPP_BURST_END, MMPP_JOB };

struct mmpp_event {
	uint64_t t_us;              /* from the start of the schedule */
	enum mmpp_event_type type;
};

struct mmpp_gen {
	struct mmpp_params p;
	uint64_t rng;
	bool burst;                 /* the current state */
	double t_us;                /* the last event's time */
	double state_end_us;        /* when the current state ends */
	double next_job_us;         /* next arrival in the current state (>= state_end: none) */
};

/* The schedule starts in the quiet state at t = 0. */
void mmpp_init(struct mmpp_gen *g, const struct mmpp_params *p);
/* The next event, in time order (ties: state changes first). */
void mmpp_next(struct mmpp_gen *g, struct mmpp_event *ev);
/* A uniform double in (0, 1) from the generator's stream (exposed for tests). */
double mmpp_uniform(uint64_t *state);
/* The fraction of [0, span_us) that the schedule spends in bursts (what a run of that length should see). */
double mmpp_burst_fraction(const struct mmpp_params *p, uint64_t span_us);
