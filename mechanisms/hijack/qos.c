/*
 * Experiment 4: packet-stream QoS. Four receiving tasks (processes pinned to
 * the case's CPU), task i reading UDP port `port` + i, started one after
 * another from task 3 to task 0 every task_start_ms (the paper: 5 s), each
 * doing work_us of CPU work per packet. The packets come from the
 * packet-stream load generator on the other CPU. Scenarios:
 *
 *   qos-same        all tasks SCHED_OTHER, nice 0 (Linux, same priority)
 *   qos-increasing  SCHED_FIFO 40, 30, 20, 10 for tasks 0..3 (Linux, increasing)
 *   qos-tokens      tasks SCHED_OTHER, their reads interposed (seccomp-notify)
 *                   and granted by the token executive (qos_exec.c)
 *
 * Samples: per-packet latency, sender TSC to receiver TSC (cycles). Written
 * to data_dir in teardown: packets_per_interval.csv and
 * max_interarrival_per_interval.csv (one row per interval, one column per task).
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "exec_nanosleep.h"
#include "guest.h"
#include "hijack.h"
#include "peer.h"
#include "placement.h"
#include "qos.h"
#include "qos_shares.h"
#include "seccomp_filter.h"

#define RCV_TIMEOUT_US 50000

/* What distinguishes the three variants. */
struct hj_qos_scenario {
	bool increasing;   /* SCHED_FIFO 40, 30, 20, 10 for tasks 0..3 */
	bool tokens;       /* the token executive grants the reads */
	const char *what;
};

static const struct hj_qos_scenario qos_same = { .what = "all SCHED_OTHER" };
static const struct hj_qos_scenario qos_increasing = { .increasing = true,
						       .what = "SCHED_FIFO 40,30,20,10 for tasks 0..3" };
static const struct hj_qos_scenario qos_tokens = { .tokens = true, .what = "token executive" };

static void sleep_until_ns(int64_t t)
{
	struct timespec ts = { .tv_sec = t / 1000000000, .tv_nsec = t % 1000000000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void on_packet(const struct hj_qos_state *qs, struct qos_task *t, const unsigned char *buf,
		      uint64_t arrival_tsc, int64_t *last_ns)
{
	struct qos_shared *sh = qs->sh;
	int64_t now = hj_now_ns();
	int64_t iv = (now - sh->t0_ns) / sh->interval_ns;
	uint64_t send_tsc;

	memcpy(&send_tsc, buf, sizeof(send_tsc));
	t->packets++;
	if (iv >= 0 && iv < (int64_t)qs->intervals)
		t->packets_per_interval[iv]++;
	if (*last_ns) {
		uint64_t gap = (uint64_t)(now - *last_ns);
		if (gap > t->max_gap_ns)
			t->max_gap_ns = gap;
		if (iv >= 0 && iv < (int64_t)qs->intervals && gap / 1000 > t->max_gap_us[iv])
			t->max_gap_us[iv] = (uint32_t)(gap / 1000);
	}
	*last_ns = now;
	if (t->lat_count < QOS_LAT_MAX && arrival_tsc > send_tsc)
		t->lat_cycles[t->lat_count++] = arrival_tsc - send_tsc;
	hj_busy_wait_until(now + sh->work_ns);   /* the task's work on the packet */
}

/* A receiving task's process (its own copy of the state, forked). */
static int task_main(void *arg)
{
	const struct hj_qos_task_arg *ta = arg;
	const struct hj_qos_state *qs = ta->qs;
	int i = ta->index;
	struct qos_shared *sh = qs->sh;
	struct qos_task *t = &sh->task[i];
	unsigned char buf[2048];
	int64_t last_ns = 0;

	while (!atomic_load(&sh->go) && !atomic_load(&sh->stop))
		usleep(1000);
	sleep_until_ns(sh->t0_ns + t->start_offset_ns);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed) && hj_now_ns() < sh->end_ns) {
		long n = hj_guest_call(SYS_recvfrom, qs->socks[i], (long)buf, sizeof(buf));
		uint64_t arrival = tsc_end();
		if (n >= 16)
			on_packet(qs, t, buf, arrival, &last_ns);
		else if (n != -EAGAIN && n != -EINTR)
			t->recv_errors++;
	}
	return 0;
}

static int open_sockets(struct mech_ctx *ctx, struct hj_qos_state *qs, int64_t port)
{
	for (int i = 0; i < QOS_TASKS; i++) {
		qs->socks[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (qs->socks[i] < 0)
			return mech_why_errno(ctx, BENCH_FAIL, "socket");
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)(port + i)),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };
		struct timeval tv = { .tv_usec = RCV_TIMEOUT_US };
		if (bind(qs->socks[i], (struct sockaddr *)&a, sizeof(a)) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "bind UDP port %lld", (long long)(port + i));
		if (setsockopt(qs->socks[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
			return mech_why_errno(ctx, BENCH_FAIL, "SO_RCVTIMEO");
	}
	return BENCH_OK;
}

/* The token executive's process (its own copy of the state, forked). */
static int exec_main(void *arg)
{
	const struct hj_qos_state *qs = arg;
	return hj_qos_executive_main(qs->sh, qs->listener, qs->socks);
}

static int start_executive(struct mech_ctx *ctx, struct hj_qos_state *qs, const struct hijack_cfg *cfg)
{
	int64_t pct[QOS_TASKS] = { 0 }, tokens[QOS_TASKS] = { 0 };
	if (hj_tokens_parse_pct(cfg->qos, pct, QOS_TASKS - 1) != 0)
		return mech_why(ctx, BENCH_FAIL, "qos \"%s\": want three percentages like \"40,30,20\"", cfg->qos);
	/* qos percent of rate per token_period_ms: "static" tokens, and the first period's of "adaptive" */
	for (int i = 0; i < QOS_TASKS - 1; i++)
		tokens[i] = pct[i] * cfg->rate * cfg->token_period_ms / 100000;
	if (cfg->token_policy == HJ_TOKENS_ADAPTIVE)
		hj_tokens_init_adaptive(&qs->sh->tokens, QOS_TASKS, pct, tokens, cfg->token_period_ms * 1000000,
					hj_now_ns());
	else
		hj_tokens_init(&qs->sh->tokens, QOS_TASKS, tokens, cfg->token_period_ms * 1000000, hj_now_ns());
	for (int i = 0; i < QOS_TASKS - 1; i++) {
		char key[REPORT_KEY_MAX];
		snprintf(key, sizeof(key), "task%d_share_target", i);
		report_real(ctx->report, key, (double)pct[i] / 100.0, "share of packets");
	}
	report_int(ctx->report, "task0_tokens_from_rate", tokens[0], "packets/period");
	report_kv(ctx->report, "share_targets", "%s%% for tasks 0,1,2, task 3 best effort: gapbench's choice "
		  "(the paper names QoS constraints but gives no numbers)", cfg->qos);

	qs->listener = hj_seccomp_install(SECCOMP_RET_USER_NOTIF);
	if (qs->listener < 0)
		return mech_why_errno(ctx, BENCH_FAIL, "seccomp(SECCOMP_RET_USER_NOTIF)");
	struct mech_ctx pctx = *ctx;
	pctx.peer_cpu = cfg->placement == HJ_PLACE_SPLIT ? ctx->peer_cpu : ctx->cpu;
	pctx.priority = ctx->priority > 0 ? ctx->priority : 50;
	if (cfg->task_priority >= pctx.priority)
		return mech_why(ctx, BENCH_FAIL, "task_priority %lld: the tasks must run below the executive (SCHED_FIFO %d)",
				(long long)cfg->task_priority, pctx.priority);
	int err = peer_process_start(&pctx, &qs->exec_pid, exec_main, qs);
	/* only the executive keeps the listener: if it dies, the tasks' reads fail instead of hanging */
	if (close(qs->listener) == 0)
		qs->listener = -1;
	if (err)
		return mech_why(ctx, BENCH_FAIL, "starting the token executive: %s", strerror(err));
	for (int ms = 0; !atomic_load(&qs->sh->exec_ready); ms++) {
		if (atomic_load(&qs->sh->exec_failed) || ms > PEER_READY_TIMEOUT_MS)
			return mech_why(ctx, BENCH_FAIL, "the token executive did not start");
		usleep(1000);
	}
	return BENCH_OK;
}

static int start_tasks(struct mech_ctx *ctx, struct hj_qos_state *qs, const struct hijack_cfg *cfg)
{
	for (int i = 0; i < QOS_TASKS; i++) {
		struct mech_ctx pctx = *ctx;
		pctx.peer_cpu = ctx->cpu;
		pctx.priority = qs->scenario->increasing ? 10 * (QOS_TASKS - i) :
				qs->scenario->tokens ? (int)cfg->task_priority : 0;
		/* task 3 first, task 0 last */
		qs->sh->task[i].start_offset_ns = (int64_t)(QOS_TASKS - 1 - i) * cfg->task_start_ms * 1000000;
		qs->args[i] = (struct hj_qos_task_arg){ .qs = qs, .index = i };
		int err = peer_process_start(&pctx, &qs->pids[i], task_main, &qs->args[i]);
		if (err)
			return mech_why(ctx, BENCH_FAIL, "starting task %d: %s", i, strerror(err));
		atomic_store(&qs->sh->task[i].pid, qs->pids[i]);
	}
	return BENCH_OK;
}

int hj_qos_probe(struct mech_ctx *ctx)
{
	if (ctx->cpu < 0)
		return mech_why(ctx, BENCH_SKIP, "qos needs a pinned receiving CPU");
	return BENCH_OK;
}

static int qos_setup(struct mech_ctx *ctx, const struct hj_qos_scenario *scenario)
{
	const struct hijack_cfg *cfg = ctx->cfg;
	struct hj_qos_state *qs = &hj_priv(ctx)->qos;

	qs->started = true;
	qs->listener = -1;
	for (int i = 0; i < QOS_TASKS; i++)
		qs->socks[i] = -1;
	qs->scenario = scenario;
	snprintf(qs->data_dir, sizeof(qs->data_dir), "%s", ctx->data_dir ? ctx->data_dir : ".");
	int64_t run_ms = (QOS_TASKS - 1) * cfg->task_start_ms + cfg->hold_ms;
	qs->intervals = (unsigned)((run_ms + cfg->interval_ms - 1) / cfg->interval_ms);
	if (qs->intervals > QOS_MAX_INTERVALS)
		return mech_why(ctx, BENCH_FAIL, "%u intervals of %lld ms: at most %d", qs->intervals,
				(long long)cfg->interval_ms, QOS_MAX_INTERVALS);
	int rc = placement_tsc_check(ctx, ctx->cpu, ctx->peer_cpu);   /* latency spans the sender's CPU */
	if (rc)
		return rc;
	qs->sh = peer_shared_alloc(sizeof(*qs->sh));
	if (!qs->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared task state");
	qs->sh->interval_ns = cfg->interval_ms * 1000000;
	qs->sh->work_ns = cfg->work_us * 1000;
	report_int(ctx->report, "receiving_cpu", ctx->cpu, "");
	report_kv(ctx->report, "tasks", "4 receivers, started task_start_ms apart from task 3 to task 0, "
		  "work_us of work per packet; task 3 best effort; %s%s", scenario->what,
		  scenario->tokens && cfg->task_priority ? ", tasks SCHED_FIFO task_priority (all equal)" : "");
	rc = open_sockets(ctx, qs, cfg->port);
	if (!rc && scenario->tokens)
		rc = start_executive(ctx, qs, cfg);
	return rc ? rc : start_tasks(ctx, qs, cfg);
}

int hj_qos_setup_same(struct mech_ctx *ctx) { return qos_setup(ctx, &qos_same); }
int hj_qos_setup_increasing(struct mech_ctx *ctx) { return qos_setup(ctx, &qos_increasing); }
int hj_qos_setup_tokens(struct mech_ctx *ctx) { return qos_setup(ctx, &qos_tokens); }

int hj_qos_measure(struct mech_ctx *ctx, struct samples *s)
{
	const struct hijack_cfg *cfg = ctx->cfg;
	struct hj_qos_state *qs = &hj_priv(ctx)->qos;
	struct qos_shared *sh = qs->sh;

	sh->t0_ns = hj_now_ns() + 10000000;   /* the tasks are asleep well before t0 */
	sh->end_ns = sh->t0_ns + (int64_t)((QOS_TASKS - 1) * cfg->task_start_ms + cfg->hold_ms) * 1000000;
	atomic_store(&sh->go, 1);
	sleep_until_ns(sh->end_ns);
	atomic_store(&sh->stop, 1);
	for (int i = 0; i < QOS_TASKS; i++)
		if (qs->pids[i] > 0) {
			peer_process_reap(qs->pids[i], PEER_REAP_TIMEOUT_MS);
			qs->pids[i] = 0;
		}
	if (atomic_load(&sh->exec_failed))
		return mech_why(ctx, BENCH_FAIL, "the token executive failed: %s", strerror(atomic_load(&sh->exec_failed)));

	uint64_t total = 0;
	for (int i = 0; i < QOS_TASKS; i++)
		total += sh->task[i].lat_count;
	if (total < s->cap + s->warmup_target)
		return mech_why(ctx, BENCH_FAIL, "only %llu packets sampled, %llu wanted (is the load packet-stream?)",
				(unsigned long long)total, (unsigned long long)(s->cap + s->warmup_target));
	for (uint32_t j = 0; j < QOS_LAT_MAX && !samples_full(s); j++)
		for (int i = 0; i < QOS_TASKS && !samples_full(s); i++)
			if (j < sh->task[i].lat_count)
				samples_add(s, sh->task[i].lat_cycles[j]);
	return BENCH_OK;
}

/* One CSV: interval start, then one column per task from `column(task, interval)`. */
static int write_csv(const struct hj_qos_state *qs, const char *name, const char *what,
		     uint32_t (*column)(const struct qos_task *, unsigned))
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", qs->data_dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "t_s,task0_%s,task1_%s,task2_%s,task3_%s\n", what, what, what, what);
	for (unsigned iv = 0; iv < qs->intervals; iv++) {
		fprintf(f, "%.3f", (double)iv * (double)qs->sh->interval_ns / 1e9);
		for (int i = 0; i < QOS_TASKS; i++)
			fprintf(f, ",%u", column(&qs->sh->task[i], iv));
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

static uint32_t packets_col(const struct qos_task *t, unsigned iv) { return t->packets_per_interval[iv]; }
static uint32_t gap_col(const struct qos_task *t, unsigned iv) { return t->max_gap_us[iv]; }

static void report_tasks(struct mech_ctx *ctx, const struct hj_qos_state *qs)
{
	const struct qos_shared *sh = qs->sh;
	uint64_t recv_errors = 0;

	/* at most REPORT_MAX_ITEMS facts per case: per task only what differs between tasks */
	for (int i = 0; i < QOS_TASKS; i++) {
		const struct qos_task *t = &sh->task[i];
		char key[REPORT_KEY_MAX];
		snprintf(key, sizeof(key), "task%d_packets", i);
		report_int(ctx->report, key, (int64_t)t->packets, "packets");
		snprintf(key, sizeof(key), "task%d_max_interarrival_us", i);
		report_real(ctx->report, key, (double)t->max_gap_ns / 1000.0, "us");
		recv_errors += t->recv_errors;
	}
	report_int(ctx->report, "recv_errors", (int64_t)recv_errors, "");
	if (!qs->scenario->tokens)
		return;
	/* one grant is one packet: task%d_packets are the grants */
	report_int(ctx->report, "notifications", (int64_t)sh->notifications, "");
	report_int(ctx->report, "token_refreshes", (int64_t)sh->tokens.refreshes, "");
	report_int(ctx->report, "run_timeouts", (int64_t)sh->run_timeouts, "");
	report_int(ctx->report, "be_grants_with_tokens", (int64_t)sh->be_grants_with_tokens, "");
	report_real(ctx->report, "token_scale_last", sh->tokens.scale, "");
	/* Why the shares come out as they do: a task that never runs out of tokens is never held back. */
	if (sh->tokens.refreshes)
		report_real(ctx->report, "grants_per_period", (double)sh->tokens.granted_total /
			    (double)sh->tokens.refreshes, "packets/period");
	for (int i = 0; i < QOS_TASKS - 1; i++) {
		char key[REPORT_KEY_MAX];
		snprintf(key, sizeof(key), "task%d_periods_out_of_tokens", i);
		report_real(ctx->report, key, sh->tokens.refreshes ? (double)sh->tokens.exhausted[i] /
			    (double)sh->tokens.refreshes : 0.0, "fraction of periods");
	}
}

/*
 * Each task's share of the packets read while all four run (from the
 * interval after task 0 started to the end), and for qos-tokens the verdict
 * against the targets (tasks 0..2; task 3 is best effort and takes the rest).
 */
static void report_shares(struct mech_ctx *ctx, const struct hj_qos_state *qs, const struct hijack_cfg *cfg)
{
	const struct qos_shared *sh = qs->sh;
	unsigned first = (unsigned)((QOS_TASKS - 1) * cfg->task_start_ms / cfg->interval_ms) + 1;
	const uint32_t *packets[QOS_TASKS];
	double share[QOS_TASKS], target[QOS_TASKS] = { 0 };
	char key[REPORT_KEY_MAX];

	if (first + 1 >= qs->intervals) {
		report_kv(ctx->report, "shares", "not computed: hold_ms leaves fewer than 2 intervals with all tasks running");
		return;
	}
	for (int i = 0; i < QOS_TASKS; i++)
		packets[i] = sh->task[i].packets_per_interval;
	if (!hj_qos_shares(QOS_TASKS, packets, first, qs->intervals, share)) {
		report_kv(ctx->report, "shares", "not computed: no packet read while all tasks ran");
		return;
	}
	for (int i = 0; i < QOS_TASKS; i++) {
		snprintf(key, sizeof(key), "task%d_share", i);
		report_real(ctx->report, key, share[i], "share of packets");
	}
	if (!qs->scenario->tokens)
		return;
	int64_t pct[QOS_TASKS] = { 0 };
	if (hj_tokens_parse_pct(cfg->qos, pct, QOS_TASKS - 1) != 0)
		return;
	for (int i = 0; i < QOS_TASKS - 1; i++)
		target[i] = (double)pct[i] / 100.0;
	int worst_task;
	double worst = hj_qos_worst_rel_error(QOS_TASKS, share, target, &worst_task);
	report_real(ctx->report, "share_worst_rel_error", worst, "fraction of target");
	(void)worst_task;   /* no room left in the report (REPORT_MAX_ITEMS) */
	report_int(ctx->report, "shares_met", worst * 100.0 <= (double)cfg->share_tolerance_pct, "");
}

void hj_qos_teardown(struct mech_ctx *ctx)
{
	struct hj_qos_state *qs = &hj_priv(ctx)->qos;

	if (!qs->started)
		return;
	if (qs->sh) {
		atomic_store(&qs->sh->stop, 1);
		if (qs->sh->t0_ns) {
			report_tasks(ctx, qs);
			report_shares(ctx, qs, ctx->cfg);
			if (write_csv(qs, "packets_per_interval.csv", "packets", packets_col) ||
			    write_csv(qs, "max_interarrival_per_interval.csv", "max_gap_us", gap_col))
				report_kv(ctx->report, "csv_error", "%s", strerror(errno));
		}
	}
	for (int i = 0; i < QOS_TASKS; i++)
		if (qs->pids[i] > 0) {
			peer_process_reap(qs->pids[i], PEER_REAP_TIMEOUT_MS);
			qs->pids[i] = 0;
		}
	if (qs->exec_pid > 0) {
		kill(qs->exec_pid, SIGKILL);
		peer_process_reap(qs->exec_pid, PEER_REAP_TIMEOUT_MS);
		qs->exec_pid = 0;
	}
	for (int i = 0; i < QOS_TASKS; i++)
		if (qs->socks[i] >= 0 && close(qs->socks[i]) == 0)
			qs->socks[i] = -1;
	if (qs->listener >= 0 && close(qs->listener) == 0)
		qs->listener = -1;
	if (qs->sh) {
		peer_shared_free(qs->sh, sizeof(*qs->sh));
		qs->sh = NULL;
	}
}
