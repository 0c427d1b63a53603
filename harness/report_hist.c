/* The histogram reporter: DIR/hist/CASE.csv for every case with statistics, DIR/raw/CASE.csv too with --raw. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reporter.h"

static int hist_case_done(struct reporter *rep, const struct run_info *run, const struct case_record *rec)
{
	(void)rep;
	if (!rec->stats)
		return 0;
	int rc = 0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/hist/%s.csv", run->out, rec->spec->name);
	if (write_hist_csv(path, &rec->stats->hist_ns) != 0) {
		fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	if (run->raw && rec->result && rec->result->sh && rec->result->sh->s.v) {   /* streamed cases keep none */
		snprintf(path, sizeof(path), "%s/raw/%s.csv", run->out, rec->spec->name);
		if (write_raw_csv(path, &rec->result->sh->s) != 0) {
			fprintf(stderr, "harness: cannot write %s: %s\n", path, strerror(errno));
			rc = -1;
		}
	}
	return rc;
}

const struct reporter_ops reporter_hist_csv = {
	.name = "hist_csv",
	.case_done = hist_case_done,
};
