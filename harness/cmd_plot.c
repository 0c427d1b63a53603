/* harness plot DIR: every plot of a results folder (plots/plot.py with gnuplot). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"

int cmd_plot(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: harness plot DIR [--formats \"png svg pdf\"]\n\n"
		       "Draws the latency histograms and tails of every case of a results folder,\n"
		       "grouped by mechanism, and the comparison with the papers, into DIR/plots/\n"
		       "(gnuplot, through %s/plots/plot.py).\n", GAPBENCH_SOURCE_ROOT);
		return 0;
	}
	if (argc != 2 && !(argc == 4 && strcmp(argv[2], "--formats") == 0)) {
		fprintf(stderr, "usage: harness plot DIR [--formats \"png svg pdf\"]\n");
		return 2;
	}
	const char *script = GAPBENCH_SOURCE_ROOT "/plots/plot.py";
	char *args[] = { "python3", (char *)script, argv[1], argc == 4 ? argv[2] : NULL, argc == 4 ? argv[3] : NULL,
			 NULL };
	fflush(NULL);
	execvp("python3", args);
	fprintf(stderr, "harness plot: cannot run python3 %s: %s\n", script, strerror(errno));
	return 2;
}
