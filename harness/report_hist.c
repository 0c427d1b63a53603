/*
 * The histogram reporter: DIR/hist/CASE.csv for every case with statistics,
 * DIR/raw/CASE.csv too with --raw. A file that cannot be written makes the
 * case's status say so (case_output_failed): an ok row never lacks its files.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reporter.h"

static int hist_case_done(struct reporter *rep, const struct run_info *run, struct case_record *rec)
{
	(void)rep;
	if (!rec->stats)
		return 0;
	int rc = 0;
	char path[4096], rel[256];
	snprintf(rel, sizeof(rel), "hist/%s.csv", rec->spec->name);
	snprintf(path, sizeof(path), "%s/%s", run->out, rel);
	if (write_hist_csv(path, &rec->stats->hist_ns) != 0) {
		case_output_failed(rec, rel, errno);
		rc = -1;
	}
	if (run->raw && rec->result && rec->result->sh && rec->result->sh->s.v) {   /* streamed cases keep none */
		snprintf(rel, sizeof(rel), "raw/%s.csv", rec->spec->name);
		snprintf(path, sizeof(path), "%s/%s", run->out, rel);
		if (write_raw_csv(path, &rec->result->sh->s) != 0) {
			case_output_failed(rec, rel, errno);
			rc = -1;
		}
	}
	return rc;
}

const struct reporter_ops reporter_hist_csv = {
	.name = "hist_csv",
	.writes_files = true,
	.case_done = hist_case_done,
};
