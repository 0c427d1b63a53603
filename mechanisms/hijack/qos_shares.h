/*
 * Experiment 4's shares: each task's fraction of the packets all tasks
 * read over a span of intervals (the span in which all four run), and the
 * verdict against targets. Pure, unit-tested (tests/test_tokens.c).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

/* share[i] = sum of packets[i][first..end) / sum over all tasks; false when no packet was read. */
bool hj_qos_shares(unsigned tasks, const uint32_t *const *packets, unsigned first, unsigned end, double *share);
/* The largest |share - target| / target over the tasks with a target (> 0); 0 when none. */
double hj_qos_worst_rel_error(unsigned tasks, const double *share, const double *target, int *worst_task);
