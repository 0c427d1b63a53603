/* meta.json: the run, the machine, and every case's settings and facts. */
#pragma once
#include <jansson.h>

#include "results.h"
#include "runner.h"
#include "suite.h"

json_t *meta_case(const struct case_spec *cs, const struct case_result *r, const struct case_stats *st);
json_t *meta_suite(const struct suite *s);
/* The run itself: when it started (local ISO 8601), its command line, pid, and whether $CI is set. */
json_t *meta_run(int argc, char **argv);
/* Atomic write of a JSON document; 0 or -1 with errno. */
int meta_write(const char *path, json_t *doc);
