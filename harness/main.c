/* harness: the gapbench command line. This file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "gapbench_version.h"
#include "suite.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: harness COMMAND [ARGS]\n"
		"\n"
		"gapbench measures what it costs to hand an event across an OS boundary.\n"
		"\n"
		"commands:\n"
		"  run SUITE.toml [--out DIR]   run a suite: summary.csv, hist/, meta.json\n"
		"  check SUITE.toml...          validate suites without running them\n"
		"  list [mechanisms|loads|keys|needs]  mechanisms, loads, suite keys, what each needs\n"
		"  compare BASE_DIR NEW_DIR     same, faster, slower or unknown, per case\n"
		"  plot DIR                     histograms, tails and paper comparison (gnuplot)\n"
		"  history record|list|show|plot|changes  runs over time in SQLite (`history --help`)\n"
		"  ab --base REV --new REV SUITE  two builds run alternately, then compare (`ab --help`)\n"
		"  version                      version and git revision\n"
		"\n"
		"`harness COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	registry_seal(case_settings_opts, case_special_keys);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(cmd, "compare") == 0)
		return cmd_compare(argc - 1, argv + 1);
	if (strcmp(cmd, "plot") == 0)
		return cmd_plot(argc - 1, argv + 1);
	if (strcmp(cmd, "history") == 0)
		return cmd_history(argc - 1, argv + 1);
	if (strcmp(cmd, "ab") == 0)
		return cmd_ab(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("gapbench %s (%s, %s build%s%s)\n", GAPBENCH_VERSION, GAPBENCH_GIT_REVISION, GAPBENCH_BUILDTYPE,
		       strcmp(GAPBENCH_SANITIZE, "none") ? ", sanitize=" : "",
		       strcmp(GAPBENCH_SANITIZE, "none") ? GAPBENCH_SANITIZE : "");
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "harness: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
