/*
 * vLibOS section 5.4, Figures 9 and 10: the lidar task (lidar_core.h), one
 * sample per period = the cycles from the scan's arrival to the steering
 * decision (decode 720 bytes, scan 240 angles, dump into the 4 MiB buffer).
 * Every period_ms (paper 100 ms) a new scan arrives; the task runs on
 * ctx->cpu, SCHED_FIFO at the case's priority, either
 *   lidar_in = host   as a host thread (the measuring thread), or
 *   lidar_in = guest  inside a KVM guest (VLIB_PROG_LIDAR, CPL 3) whose vCPU
 *                     thread is the measuring thread: the guest times itself
 *                     with its own TSC, the host hands it each scan;
 * with, on the peer CPU, the Darknet stand-in (corunner_core.h):
 *   lidar-alone            nothing (Figures 9 and 10, "lidar")
 *   lidar-corunner         a host thread of the master (Figure 10,
 *                          "lidar+Darknet" on one Linux)
 *   lidar-guest-corunner   inside the vLib OS guest, unchecked (Figure 9,
 *                          "w/o mem": Linux runs its own Darknet)
 *   lidar-throttled        inside the vLib OS guest in a vLib call the
 *                          master throttles (Figure 9, "w/ mem"): the
 *                          co-runner has corunner_budget_pct of
 *                          corunner_period_ms in foreground (paper: the
 *                          client's VCPU C=12, T=40) and runs in background
 *                          only while the task's last period took no more
 *                          than throttle_slack_pct over its alone p50 (no
 *                          PMU here: the task's own time is the signal)
 * Per period, data_dir/lidar_periods.csv. The paper's worst cases (24,000
 * cycles unthrottled, 17,000 throttled) were on a partitioning hypervisor;
 * reference-data/citations.toml says which cases compare with them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../kvm/kvm_runloop.h"
#include "corunner_core.h"
#include "host_corunner.h"
#include "lidar_core.h"
#include "rtenv.h"
#include "vlib_calc.h"
#include "vlib_exp.h"

#define LIDAR_PAPER_PERIODS 2000
#define LIDAR_CALIBRATION_PERIODS 200

enum lidar_corunner { CO_NONE, CO_HOST, CO_GUEST, CO_GUEST_THROTTLED };

struct lidar_rec {
	uint64_t cycles, corunner_progress, throttled_ms;
	uint32_t decision;
	bool missed;
};

/* The master's throttle of the guest co-runner (lidar-throttled); lives in measure()'s frame. */
struct lidar_throttle {
	struct mech_ctx *ctx;
	struct vlib_os *os;
	uint64_t limit_cycles;           /* the task's alone p50 plus the slack */
	_Atomic uint64_t last_cycles;    /* the task's latest period */
	_Atomic int stop;
	_Atomic uint64_t throttled_ms;
	int ctl_err;
	pthread_t thread;
	bool started;
};

/*
 * On the task's CPU, one priority BELOW the task: it ticks every 1 ms while
 * the task sleeps and never preempts a period of the task.
 */
static void *throttle_thread(void *arg)
{
	struct lidar_throttle *t = arg;
	const struct vlib_cfg *cfg = t->ctx->cfg;
	int prio = t->ctx->priority > 1 ? t->ctx->priority - 1 : 0;
	t->ctl_err = prio > 0 ? rtenv_fifo_self(prio) : 0;
	uint64_t period_ns = (uint64_t)cfg->corunner_period_ms * 1000000u;
	uint64_t budget_ns = period_ns * (uint64_t)cfg->corunner_budget_pct / 100u;
	uint64_t start = vlib_now_ns(), tick = start;
	bool parked = false;
	while (!atomic_load(&t->stop)) {
		tick += 1000000u;
		vlib_sleep_until_ns(tick);
		bool foreground = (tick - start) % period_ns < budget_ns;
		bool run = foreground || atomic_load(&t->last_cycles) <= t->limit_cycles;
		if (!run)
			atomic_fetch_add(&t->throttled_ms, 1);
		if (!run && !parked)
			vlib_os_deschedule(t->os);
		if (run && parked)
			vlib_os_resume(t->os);
		parked = !run;
	}
	if (parked)
		vlib_os_resume(t->os);
	return NULL;
}

/* Host co-runner: one round of the Darknet stand-in over its buffer. */
struct host_darknet {
	struct corunner_mats mats;
	volatile uint64_t *buf;
	uint64_t bytes, pos;
};

static uint64_t host_darknet_step(void *arg)
{
	struct host_darknet *h = arg;
	corunner_round(&h->mats, h->buf, h->bytes, &h->pos);
	return 1;
}

/* Where the task runs: the scan buffer it reads and how one period is run and timed. */
struct lidar_task {
	struct mech_ctx *ctx;
	bool in_guest;
	struct kvm_guest *guest;
	struct kvm_dispatch d;
	struct kvm_exit_state es;
	uint8_t *scan;                   /* host: its own buffer; guest: VLIB_LIDAR_IN_GPA */
	uint8_t *dump;                   /* host only */
	uint64_t offset;
	uint32_t period;
};

static int lidar_return(struct kvm_vcpu *vcpu, void *arg, uint32_t value)
{
	(void)vcpu;
	(void)arg;
	(void)value;
	return KVM_HC_RETURN;
}

/* Run the guest until it asks for the next scan. */
static int guest_wait_for_scan(struct lidar_task *t)
{
	int rc;
	while ((rc = kvm_run_loop(&t->guest->vcpu, &t->d, &t->es, NULL)) == KVM_LOOP_KICKED)
		;
	if (rc == KVM_LOOP_RETURNED)
		return BENCH_OK;
	char text[200];
	kvm_exit_describe(&t->es, text, sizeof(text));
	return mech_why(t->ctx, BENCH_FAIL, "lidar guest: %s", text);
}

static int task_start(struct lidar_task *t)
{
	if (!t->in_guest) {
		t->scan = malloc(LIDAR_SCAN_BYTES);
		t->dump = mmap(NULL, LIDAR_DUMP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
			       -1, 0);
		if (!t->scan || t->dump == MAP_FAILED) {
			if (t->dump == MAP_FAILED)
				t->dump = NULL;
			return mech_why(t->ctx, BENCH_FAIL, "cannot allocate the scan and dump buffers");
		}
		return BENCH_OK;
	}
	struct vlib_state *st = t->ctx->priv;
	const struct vlib_cfg *cfg = t->ctx->cfg;
	if (((uint64_t)cfg->ram_mb << 20) < VLIB_LIDAR_DUMP_GPA + LIDAR_DUMP_BYTES)
		return mech_why(t->ctx, BENCH_FAIL, "ram_mb %lld: the lidar guest needs %llu MiB", (long long)cfg->ram_mb,
				(unsigned long long)((VLIB_LIDAR_DUMP_GPA + LIDAR_DUMP_BYTES) >> 20) + 2);
	int rc = vlib_exp_boot(t->ctx, &st->guest, VLIB_PROG_LIDAR, 0);
	if (rc != BENCH_OK)
		return rc;
	t->guest = &st->guest;
	kvm_dispatch_add(&t->d, VLIB_HC_LIDAR, lidar_return, NULL);
	t->scan = kvm_vm_gpa(&st->guest.vm, VLIB_LIDAR_IN_GPA);
	return guest_wait_for_scan(t);   /* the guest's first exit: ready for period 0 */
}

static void task_stop(struct lidar_task *t)
{
	if (!t->in_guest) {
		free(t->scan);
		if (t->dump)
			munmap(t->dump, LIDAR_DUMP_BYTES);
	}
}

/* The scan arrives (untimed), the task runs one period: its cycles, or 0 with ctx->why set. */
static uint64_t task_period(struct lidar_task *t, uint32_t *decision, int *rc)
{
	uint16_t mm[LIDAR_ANGLES];
	lidar_scene(mm, t->period);
	lidar_encode(t->scan, mm);
	uint64_t cycles;
	if (!t->in_guest) {
		uint64_t t0 = tsc_start();
		*decision = lidar_period(t->scan, t->dump, &t->offset, t->period);
		cycles = tsc_end() - t0;
	} else {
		*rc = guest_wait_for_scan(t);
		if (*rc != BENCH_OK)
			return 0;
		struct kvm_mailbox *mb = kvm_vm_mailbox(&t->guest->vm);
		cycles = mb->arg[1] - mb->arg[0];
		*decision = (uint32_t)mb->arg[2];
	}
	t->period++;
	return cycles;
}

static void write_periods(struct mech_ctx *ctx, const struct lidar_rec *rec, uint64_t n)
{
	if (!ctx->data_dir)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/lidar_periods.csv", ctx->data_dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		report_kv(ctx->report, "lidar_periods_csv", "cannot write %s", path);
		return;
	}
	fprintf(f, "period,cycles,decision,corunner_rounds,corunner_throttled_ms,missed_deadline\n");
	for (uint64_t i = 0; i < n; i++)
		fprintf(f, "%llu,%llu,%u,%llu,%llu,%d\n", (unsigned long long)i, (unsigned long long)rec[i].cycles,
			rec[i].decision, (unsigned long long)rec[i].corunner_progress, (unsigned long long)rec[i].throttled_ms,
			rec[i].missed);
	fclose(f);
	report_kv(ctx->report, "lidar_periods_csv", "%s", path);
}

static void report_lidar(struct mech_ctx *ctx, const struct lidar_rec *rec, uint64_t from, uint64_t n, uint64_t alone_p50)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	uint64_t *v = malloc((n > from ? n - from : 1) * sizeof(*v));
	if (v && n > from) {
		double sum = 0;
		for (uint64_t i = from; i < n; i++) {
			v[i - from] = rec[i].cycles;
			sum += (double)rec[i].cycles;
		}
		double mean = sum / (double)(n - from);
		uint64_t worst = vlib_quantile(v, n - from, 1.0);
		report_int(ctx->report, "lidar_worst_case_cycles", (int64_t)worst, "cycles");
		report_real(ctx->report, "lidar_mean_cycles", mean, "cycles");
		report_real(ctx->report, "lidar_worst_over_mean", mean > 0 ? (double)worst / mean : 0.0, "ratio");
		report_kv(ctx->report, "section_paper", "vlibos");
		report_kv(ctx->report, "section_note", "Figures 9/10, %s, task on the %s: worst period %llu cycles, mean %.0f "
			  "(%llu periods of %lld ms; the paper: 2000 of 100 ms)", ctx->variant_name, cfg->lidar_in ? "guest" : "host",
			  (unsigned long long)worst, mean, (unsigned long long)(n - from), (long long)cfg->period_ms);
	}
	free(v);
	report_int(ctx->report, "lidar_alone_p50_cycles", (int64_t)alone_p50, "cycles");   /* calibration, before any co-runner */
	report_int(ctx->report, "lidar_periods", (int64_t)n, "");   /* rows of the CSV, warm-up included */
	report_kv(ctx->report, "lidar_scale", "%llu periods of %lld ms (the paper: %d periods of 100 ms)",
		  (unsigned long long)n, (long long)cfg->period_ms, LIDAR_PAPER_PERIODS);
	report_kv(ctx->report, "lidar_in", "%s", cfg->lidar_in ? "guest (KVM, CPL 3, timed with the guest's TSC)" : "host thread");
}

static int lidar_measure(struct mech_ctx *ctx, struct samples *s, enum lidar_corunner co)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct vlib_state *st = ctx->priv;
	struct lidar_task task = { .ctx = ctx, .in_guest = cfg->lidar_in == 1 };
	uint64_t max_periods = s->cap + s->warmup_target + 1;
	struct lidar_rec *rec = calloc(max_periods, sizeof(*rec));
	if (!rec)
		return mech_why(ctx, BENCH_FAIL, "out of memory for the period records");
	int rc = task_start(&task);
	/* The task alone, back to back, before any co-runner: the throttle's reference. */
	uint64_t cal[LIDAR_CALIBRATION_PERIODS];
	uint32_t decision = 0;
	for (int i = 0; rc == BENCH_OK && i < LIDAR_CALIBRATION_PERIODS; i++)
		cal[i] = task_period(&task, &decision, &rc);
	uint64_t alone_p50 = rc == BENCH_OK ? vlib_quantile(cal, LIDAR_CALIBRATION_PERIODS, 0.5) : 0;
	task.period = 0;

	struct vlib_host_corunner host = { 0 };
	struct host_darknet *hd = NULL;
	struct vlib_chan_hdr *hdr = NULL;
	_Atomic int guest_done = 0;
	struct lidar_throttle th = { .ctx = ctx, .os = st->os,
				     .limit_cycles = alone_p50 * (100u + (uint64_t)cfg->throttle_slack_pct) / 100u };
	uint64_t co_bytes = vlib_corunner_bytes(cfg->corunner_kb);
	if (rc == BENCH_OK && co == CO_HOST) {
		hd = mmap(NULL, sizeof(*hd), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		void *buf = mmap(NULL, co_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (hd == MAP_FAILED || buf == MAP_FAILED) {
			rc = mech_why(ctx, BENCH_FAIL, "cannot map the co-runner's buffers");
			if (buf != MAP_FAILED)
				munmap(buf, co_bytes);
			if (hd == MAP_FAILED)
				hd = NULL;
			else
				hd->buf = NULL;
		} else {
			corunner_init(&hd->mats);
			hd->buf = buf;
			hd->bytes = co_bytes;
			if ((errno = vlib_host_corunner_start(&host, ctx->peer_cpu, host_darknet_step, hd)) != 0)
				rc = mech_why_errno(ctx, BENCH_FAIL, "cannot start the co-runner thread");
		}
	} else if (rc == BENCH_OK && (co == CO_GUEST || co == CO_GUEST_THROTTLED)) {
		rc = vlib_exp_guest_corunner_start(ctx, VLIB_OP_CORUNNER, co_bytes, &guest_done, &hdr);
		if (rc == BENCH_OK && co == CO_GUEST_THROTTLED) {
			if (pthread_create(&th.thread, NULL, throttle_thread, &th) != 0)
				rc = mech_why(ctx, BENCH_FAIL, "cannot start the throttle");
			else
				th.started = true;
		}
	}

	uint64_t period_ns = (uint64_t)cfg->period_ms * 1000000u, next = vlib_now_ns() + period_ns, periods = 0;
	while (rc == BENCH_OK && !samples_full(s) && periods < max_periods) {
		vlib_sleep_until_ns(next);
		uint64_t cycles = task_period(&task, &decision, &rc);
		if (rc != BENCH_OK)
			break;
		atomic_store(&th.last_cycles, cycles);
		samples_add(s, cycles);
		struct lidar_rec *r = &rec[periods++];
		r->cycles = cycles;
		r->decision = decision;
		r->corunner_progress = hdr ? hdr->progress : atomic_load(&host.progress);
		r->throttled_ms = atomic_load(&th.throttled_ms);
		r->missed = vlib_now_ns() > next + period_ns;
		s->missed += r->missed;
		next += period_ns;
	}
	if (th.started) {
		atomic_store(&th.stop, 1);
		pthread_join(th.thread, NULL);
	}
	vlib_host_corunner_stop(&host);
	if (hd) {
		if (hd->buf)
			munmap((void *)hd->buf, co_bytes);
		munmap(hd, sizeof(*hd));
	}
	if (hdr)
		rc = vlib_exp_guest_corunner_stop(ctx, hdr, &guest_done, rc);
	task_stop(&task);
	if (rc == BENCH_OK) {
		write_periods(ctx, rec, periods);
		report_lidar(ctx, rec, s->warmup_discarded, periods, alone_p50);
		if (co != CO_NONE) {
			report_int(ctx->report, "corunner_bytes", (int64_t)co_bytes, "bytes");
			report_int(ctx->report, "corunner_rounds", (int64_t)(periods ? rec[periods - 1].corunner_progress : 0), "");
			report_kv(ctx->report, "corunner", "%s", "Darknet stand-in: 64x64 integer matrix multiply + 256 KiB "
				  "streamed read-modify-write per round (no neural network, no GPU)");
		}
		if (co == CO_GUEST_THROTTLED) {
			report_int(ctx->report, "corunner_throttled_ms", (int64_t)atomic_load(&th.throttled_ms), "ms");
			report_kv(ctx->report, "throttle", "co-runner foreground %lld%% of %lld ms; background only while the "
				  "task's last period <= alone p50 + %lld%%", (long long)cfg->corunner_budget_pct,
				  (long long)cfg->corunner_period_ms, (long long)cfg->throttle_slack_pct);
			if (th.ctl_err)
				report_kv(ctx->report, "throttle_priority", "not SCHED_FIFO: %s", strerror(th.ctl_err));
		}
		if (task.in_guest || co == CO_GUEST || co == CO_GUEST_THROTTLED)
			vlib_exp_report_platform(ctx);
	}
	free(rec);
	return rc;
}

int exp_lidar_alone_measure(struct mech_ctx *ctx, struct samples *s)
{
	return lidar_measure(ctx, s, CO_NONE);
}

int exp_lidar_corunner_measure(struct mech_ctx *ctx, struct samples *s)
{
	return lidar_measure(ctx, s, CO_HOST);
}

int exp_lidar_guest_corunner_measure(struct mech_ctx *ctx, struct samples *s)
{
	return lidar_measure(ctx, s, CO_GUEST);
}

int exp_lidar_throttled_measure(struct mech_ctx *ctx, struct samples *s)
{
	return lidar_measure(ctx, s, CO_GUEST_THROTTLED);
}

/* vLibOS Table 3 (Darknet on a GPU, vanilla Linux vs vLib Linux): not measurable without a GPU workload. */
int exp_gpu_probe(struct mech_ctx *ctx)
{
	bool gpu = access("/dev/nvidia0", F_OK) == 0 || access("/dev/dri/renderD128", F_OK) == 0;
	return mech_why(ctx, BENCH_SKIP, "vLibOS Table 3 needs a GPU passed through to the vLib OS guest and Darknet's CUDA "
			"image classification%s", gpu ? " (a GPU is present, but gapbench has no Darknet/CUDA workload)" : "");
}
