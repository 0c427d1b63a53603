/* harness list: mechanisms, load generators, case keys; all from their tables. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "loadgen.h"
#include "mechanism.h"
#include "registry.h"
#include "suite.h"

static void print_opts(const struct opt_desc *t, const char *indent)
{
	for (const struct opt_desc *d = t; d && d->name; d++) {
		char range[256] = "";
		if (d->type == OPT_INT) {
			snprintf(range, sizeof(range), " [%" PRId64 "..%" PRId64 "]%s%s", d->min, d->max,
				 d->unit && d->unit[0] ? " " : "", d->unit ? d->unit : "");
		} else if (d->type == OPT_ENUM) {
			size_t used = snprintf(range, sizeof(range), " {");
			for (int i = 0; d->choices[i] && used < sizeof(range); i++)
				used += (size_t)snprintf(range + used, sizeof(range) - used, "%s%s", i ? "|" : "",
							 d->choices[i]);
			if (used < sizeof(range))
				snprintf(range + used, sizeof(range) - used, "}");
		}
		printf("%s%-16s %-6s default %-8s%s\n%s    %s\n", indent, d->name, opt_type_name(d->type), d->def,
		       range, indent, d->help);
	}
}

static void print_flags(unsigned flags)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ MECH_NEEDS_ROOT, "needs-root" }, { MECH_NEEDS_2CPUS, "needs-2cpus" },
		{ MECH_NEEDS_KVM, "needs-kvm" }, { MECH_NEEDS_KMOD, "needs-kmod" },
		{ MECH_SUBTRACT_PROBE_OVERHEAD, "probe-overhead-subtracted" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			printf(" [%s]", names[i].name);
}

static void list_mechanisms(void)
{
	printf("Mechanisms (suite key `mechanism`):\n");
	for (size_t i = 0; mechanism_at(i); i++) {
		const struct mechanism_ops *m = mechanism_at(i);
		printf("\n  %s: %s", m->name, m->help);
		print_flags(m->flags);
		printf("\n    variants (suite key `variant`, first is the default), each with what it records:\n");
		for (unsigned v = 0; m->variants[v].name; v++) {
			const struct variant_desc *vd = &m->variants[v];
			printf("      %-16s [%s]", vd->name, sample_unit_name(experiment_unit(m, v)));
			print_flags(vd->flags);
			if (experiment_kmod(m, v))
				printf(" [module %s]", experiment_kmod(m, v));
			printf(" %s\n", vd->help);
			if (vd->opts && vd->opts->name) {
				printf("        options of %s:\n", vd->name);
				print_opts(vd->opts, "          ");
			}
		}
		if (m->opts && m->opts->name) {
			printf("    options of every variant:\n");
			print_opts(m->opts, "      ");
		}
	}
}

static void list_loads(void)
{
	printf("\nLoad generators (suite key `load`, options in `load_opts`):\n");
	if (!loadgen_at(0))
		printf("  (none registered)\n");
	for (size_t i = 0; loadgen_at(i); i++) {
		const struct loadgen_ops *l = loadgen_at(i);
		printf("\n  %s: %s", l->name, l->help);
		print_flags(l->flags);
		printf("\n");
		if (l->opts && l->opts->name) {
			printf("    options:\n");
			print_opts(l->opts, "      ");
		}
	}
}

/* The capability matrix: what each experiment and load needs beyond an ordinary user. */
static void list_needs(void)
{
	printf("\nWhat a case needs (a case the machine or the user cannot run is a skip naming what is missing):\n"
	       "  every case    priority > 0: root, CAP_SYS_NICE or an rtprio limit (ulimit -r)\n"
	       "                mlock = true: root, CAP_IPC_LOCK or a memlock limit (ulimit -l)\n"
	       "                dma_latency = true: root (writes /dev/cpu_dma_latency)\n"
	       "                (without root: set those keys off, or degrade = true to run without them)\n");
	printf("  %-28s %-5s %-5s %-6s %s\n", "mechanism/variant", "root", "kvm", "2cpus", "kernel module");
	for (size_t i = 0; mechanism_at(i); i++) {
		const struct mechanism_ops *m = mechanism_at(i);
		for (unsigned v = 0; m->variants[v].name; v++) {
			unsigned f = experiment_flags(m, v);
			char name[160];
			snprintf(name, sizeof(name), "%s/%s", m->name, m->variants[v].name);
			printf("  %-28s %-5s %-5s %-6s %s\n", name, f & MECH_NEEDS_ROOT ? "yes" : "-",
			       f & MECH_NEEDS_KVM ? "yes" : "-", f & MECH_NEEDS_2CPUS ? "yes" : "-",
			       experiment_kmod(m, v) ? experiment_kmod(m, v) : "-");
		}
	}
	for (size_t i = 0; loadgen_at(i); i++) {
		const struct loadgen_ops *l = loadgen_at(i);
		char name[160];
		snprintf(name, sizeof(name), "load %s", l->name);
		printf("  %-28s %-5s %-5s %-6s\n", name, l->flags & MECH_NEEDS_ROOT ? "yes" : "-",
		       l->flags & MECH_NEEDS_KVM ? "yes" : "-", l->flags & MECH_NEEDS_2CPUS ? "yes" : "-");
	}
}

static void list_keys(void)
{
	printf("\nCase keys (in [[case]], or in [defaults] for every case; a list sweeps):\n");
	printf("  %-16s %-6s %s\n", "name", "string", "case name (default: the mechanism's); swept keys are appended");
	printf("  %-16s %-6s %s\n", "mechanism", "string", "required: which mechanism");
	printf("  %-16s %-6s %s\n", "variant", "string", "the mechanism's variant (a list runs several)");
	printf("  %-16s %-6s %s\n", "load", "string", "a load generator running during the case, or \"none\"");
	printf("  %-16s %-6s %s\n", "load_opts", "table", "options of the load generator");
	printf("  %-16s %-6s %s\n", "pmu", "list", "PMU event names (libpfm4), counted over measure(); not a sweep");
	print_opts(case_settings_opts, "  ");
}

int cmd_list(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "all";
	if (strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0) {
		printf("usage: harness list [mechanisms|loads|keys|needs]\n\n"
		       "Lists mechanisms with their variants (each with its unit, flags and own options),\n"
		       "load generators, the case keys of a suite with types, defaults, ranges and help,\n"
		       "and what each experiment needs (root, /dev/kvm, two CPUs).\n");
		return 0;
	}
	bool all = strcmp(what, "all") == 0;
	if (!all && strcmp(what, "mechanisms") && strcmp(what, "loads") && strcmp(what, "keys") && strcmp(what, "needs")) {
		fprintf(stderr, "harness list: unknown topic '%s' (mechanisms, loads, keys, needs)\n", what);
		return 2;
	}
	if (all || strcmp(what, "mechanisms") == 0)
		list_mechanisms();
	if (all || strcmp(what, "loads") == 0)
		list_loads();
	if (all || strcmp(what, "keys") == 0)
		list_keys();
	if (all || strcmp(what, "needs") == 0)
		list_needs();
	return 0;
}
