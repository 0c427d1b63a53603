/* Starting and stopping a transport with its shared link page. */
#include <string.h>

#include "hijack.h"
#include "peer.h"

int hj_session_start(struct mech_ctx *ctx, const struct hj_transport *t, struct hj_session *s,
		     const struct executive *ex, int placement)
{
	memset(s, 0, sizeof(*s));
	s->exec = ex;
	s->exec_cpu = placement == HJ_PLACE_SPLIT ? ctx->peer_cpu : ctx->cpu;
	s->priority = ctx->priority;
	s->mlock = ctx->mlock;
	s->link = peer_shared_alloc(sizeof(*s->link));
	if (!s->link)
		return mech_why_errno(ctx, BENCH_FAIL, "shared page for the executive");
	report_kv(ctx->report, "transport", "%s", t->name);
	if (t->separate_executive) {
		report_int(ctx->report, "executive_cpu", s->exec_cpu, "");
		report_kv(ctx->report, "executive_placement", "%s", placement == HJ_PLACE_SPLIT ? "split" : "same");
	}
	return t->start(ctx, s);
}

void hj_session_stop(const struct hj_transport *t, struct hj_session *s)
{
	if (t && s->link)
		t->stop(s);
	if (s->link && s->exec_pid == 0) {
		peer_shared_free(s->link, sizeof(*s->link));
		s->link = NULL;
	}
}

void hj_session_enter(const struct hj_transport *t, struct hj_session *s)
{
	if (t && t->guest_enter)
		t->guest_enter(s);
}

void hj_session_leave(const struct hj_transport *t, struct hj_session *s)
{
	if (t && t->guest_leave)
		t->guest_leave(s);
}

void hj_report_counters(struct mech_ctx *ctx, const struct hj_counters *c)
{
	report_int(ctx->report, "executive_calls", (int64_t)c->calls, "calls");
	report_int(ctx->report, "executive_passed", (int64_t)c->passed, "calls");
	report_int(ctx->report, "executive_emulated", (int64_t)c->emulated, "calls");
	report_int(ctx->report, "executive_blocked", (int64_t)c->blocked, "calls");
	report_int(ctx->report, "executive_returns", (int64_t)c->returns, "calls");
	report_int(ctx->report, "executive_busy_waits", (int64_t)c->busy_waits, "calls");
	report_int(ctx->report, "executive_boosts", (int64_t)c->boosts, "");
}
