/* Shares of the packets per task (qos_shares.h). */
#include "qos_shares.h"

#include <math.h>

bool hj_qos_shares(unsigned tasks, const uint32_t *const *packets, unsigned first, unsigned end, double *share)
{
	uint64_t total = 0;

	for (unsigned i = 0; i < tasks; i++) {
		uint64_t n = 0;
		for (unsigned iv = first; iv < end; iv++)
			n += packets[i][iv];
		share[i] = (double)n;
		total += n;
	}
	for (unsigned i = 0; i < tasks; i++)
		share[i] = total ? share[i] / (double)total : 0.0;
	return total > 0;
}

double hj_qos_worst_rel_error(unsigned tasks, const double *share, const double *target, int *worst_task)
{
	double worst = 0.0;

	*worst_task = -1;
	for (unsigned i = 0; i < tasks; i++) {
		if (!(target[i] > 0))
			continue;
		double e = fabs(share[i] - target[i]) / target[i];
		if (*worst_task < 0 || e > worst) {
			worst = e;
			*worst_task = (int)i;
		}
	}
	return worst;
}
