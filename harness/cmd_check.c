/* harness check SUITE.toml: validate without running. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "suite.h"

int cmd_check(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: harness check SUITE.toml...\n\n"
		       "Validates suites without running them and lists the cases they expand to.\n"
		       "Exit status: 0 all valid, 2 some suite is invalid (one line per error).\n");
		return 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: harness check SUITE.toml...\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct suite s;
		char err[1024];
		if (suite_load(argv[i], &s, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			rc = 2;
			continue;
		}
		printf("%s: suite '%s', %zu cases\n", argv[i], s.name, s.n_cases);
		for (size_t k = 0; k < s.n_cases; k++) {
			const struct case_spec *cs = &s.cases[k];
			printf("  %-44s %s/%s samples=%lld timeout_s=%lld%s%s%s%s\n", cs->name, cs->mech->name,
			       cs->mech->variants[cs->variant].name, (long long)cs->set.samples,
			       (long long)cs->set.timeout_s, cs->params[0] ? " " : "", cs->params,
			       cs->load ? " load=" : "", cs->load ? cs->load->name : "");
		}
		suite_free(&s);
	}
	return rc;
}
