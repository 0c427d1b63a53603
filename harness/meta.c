#include "meta.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsontext.h"
#include "output.h"

static json_t *rt_item(const struct rtenv_item *it)
{
	json_t *o = json_pack("{s:b, s:b, s:I}", "requested", it->requested, "ok", it->ok, "got", (json_int_t)it->got);
	if (it->err)
		json_object_set_new(o, "error", json_string(strerror(it->err)));
	return o;
}

static json_t *rtenv_json(const struct rtenv_state *rt)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o}",
			 "mlockall_vmlck_kb", rt_item(&rt->mlock),
			 "sched_fifo_priority", rt_item(&rt->priority),
			 "cpu_affinity", rt_item(&rt->cpu),
			 "cpu_dma_latency_us", rt_item(&rt->dma_latency),
			 "timer_slack_ns", rt_item(&rt->timer_slack));
}

/* Text facts as strings; numbers as {"value": V, "unit": U} (a non-finite real is null). */
static json_t *report_json(const struct report *r)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < r->count; i++) {
		const struct report_item *it = &r->items[i];
		json_t *v;
		if (it->type == REPORT_INT)
			v = json_pack("{s:I, s:o}", "value", (json_int_t)it->i, "unit", json_text(it->unit));
		else if (it->type == REPORT_REAL)
			v = json_pack("{s:o, s:o}", "value", isfinite(it->d) ? json_real(it->d) : json_null(),
				      "unit", json_text(it->unit));
		else
			v = json_text(it->val);
		json_object_set_new(o, it->key, v ? v : json_text("(could not be encoded)"));
	}
	if (r->dropped)
		json_object_set_new(o, "_dropped_items", json_integer(r->dropped));
	return o;
}

static json_t *pmu_json(const struct pmu_set *p, uint64_t samples)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < p->count; i++) {
		const struct pmu_counter *c = &p->c[i];
		if (c->available)
			json_object_set_new(o, c->name, json_pack("{s:I, s:f, s:I, s:I}",
				"total", (json_int_t)c->value,
				"per_operation", samples ? (double)c->value / (double)samples : 0.0,
				"enabled_ns", (json_int_t)c->enabled_ns, "running_ns", (json_int_t)c->running_ns));
		else
			json_object_set_new(o, c->name, json_pack("{s:s, s:o}", "value", "unavailable", "why", json_text(c->why)));
	}
	return o;
}

static json_t *overhead_json(const struct tsc_overhead *o)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:b}", "min_cycles", (json_int_t)o->min_cycles,
			 "p50_cycles", (json_int_t)o->p50_cycles, "p99_cycles", (json_int_t)o->p99_cycles,
			 "batch_min_spread_cycles", (json_int_t)o->batch_min_spread, "stable", o->stable);
}

json_t *meta_case(const struct case_spec *cs, const struct case_result *r, const struct case_stats *st)
{
	/* json_text: reasons and suite text may hold bytes that are not UTF-8 */
	json_t *o = json_pack("{s:o, s:s, s:s, s:o, s:o, s:o, s:i, s:f}",
			      "case", json_text(cs->name), "mechanism", cs->mech->name,
			      "variant", cs->mech->variants[cs->variant].name,
			      "params", json_text(cs->params), "load", json_text(cs->load_desc),
			      "status", json_text(r->status_text), "suite_line", cs->line, "elapsed_s", r->elapsed_s);
	if (!o)
		return NULL;
	json_object_set_new(o, "settings", json_pack("{s:I, s:I, s:I, s:I, s:i, s:i, s:b, s:b, s:I}",
		"samples", (json_int_t)cs->set.samples, "warmup", (json_int_t)cs->set.warmup,
		"timeout_s", (json_int_t)cs->set.timeout_s, "priority", (json_int_t)cs->set.priority,
		"cpu", r->cpu, "peer_cpu", r->peer_cpu, "mlock", cs->set.mlock,
		"dma_latency", cs->set.dma_latency, "timer_slack_ns", (json_int_t)cs->set.timer_slack_ns));
	if (cs->set.stand_in[0])   /* the case is not the paper's mechanism: what stands in for what */
		json_object_set_new(o, "stand_in", json_text(cs->set.stand_in));
	if (r->unreaped)
		json_object_set_new(o, "case_process_unreaped_after_sigkill", json_true());
	if (r->leftovers_killed)
		json_object_set_new(o, "leftover_processes_killed", json_true());
	if (!r->sh)
		return o;
	const struct child_shared *sh = r->sh;
	json_object_set_new(o, "phase_reached", json_string(case_phase_name(sh->phase)));
	json_object_set_new(o, "unit_recorded", json_string(sh->s.unit == SAMPLE_CYCLES ? "cycles" : "ns"));
	json_object_set_new(o, "samples_recorded", json_integer((json_int_t)sh->s.count));
	json_object_set_new(o, "samples_streamed", json_boolean(sh->s.stream != NULL));
	if (r->case_max_rss_kb)
		json_object_set_new(o, "case_max_rss_kb", json_integer((json_int_t)r->case_max_rss_kb));
	json_object_set_new(o, "warmup_discarded", json_integer((json_int_t)sh->s.warmup_discarded));
	json_object_set_new(o, "missed_periods", json_integer((json_int_t)sh->s.missed));
	json_object_set_new(o, "measure_s", json_real((double)sh->measure_ns / 1e9));
	json_object_set_new(o, "rt_environment", rtenv_json(&sh->rt));
	if (sh->ran_without[0])
		json_object_set_new(o, "ran_without", json_text(sh->ran_without));
	json_object_set_new(o, "probe_overhead", overhead_json(&sh->overhead));
	json_object_set_new(o, "report", report_json(&sh->report));
	if (cs->load)
		json_object_set_new(o, "load_achieved", report_json(&sh->load_report));
	if (sh->pmu.count)
		/* the counters ran over every operation of measure(), warm-up included;
		   per thread: a peer's work is not in them */
		json_object_set_new(o, "pmu", pmu_json(&sh->pmu, sh->s.count + sh->s.warmup_discarded));
	if (st) {
		json_object_set_new(o, "probe_overhead_subtracted_cycles", json_integer((json_int_t)st->subtracted_cycles));
		json_object_set_new(o, "histogram_overflow", json_integer((json_int_t)st->ns.overflow));
		json_object_set_new(o, "p999_in_overflow", json_boolean(st->ns.p999_in_overflow));
	}
	return o;
}

json_t *meta_suite(const struct suite *s)
{
	return json_pack("{s:o, s:o, s:o, s:s, s:I}", "path", json_text(s->path), "name", json_text(s->name),
			 "description", json_text(s->description ? s->description : ""), "sha256", s->sha256_hex, "cases", (json_int_t)s->n_cases);
}

json_t *meta_run(int argc, char **argv)
{
	char ts[64];
	local_timestamp(ts, sizeof(ts), true);
	json_t *args = json_array();
	for (int i = 0; i < argc; i++)
		json_array_append_new(args, json_text(argv[i]));
	return json_pack("{s:s, s:o, s:i, s:b}", "started", ts, "argv", args, "pid", (int)getpid(),
			 "ci", getenv("CI") != NULL);
}

int meta_write(const char *path, json_t *doc)
{
	char tmp[4096];
	FILE *f = atomic_open(path, tmp, sizeof(tmp));
	if (!f)
		return -1;
	if (json_dumpf(doc, f, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	fputc('\n', f);
	return atomic_commit(f, tmp, path);
}
