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
	if (t->separate_executive)
		report_kv(ctx->report, "executive_cpu", "%d (placement %s)", s->exec_cpu,
			  placement == HJ_PLACE_SPLIT ? "split" : "same");
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
