/*
 * Experiment 5, memory-bus interference (paper section 5.3). A real-time
 * m_jump (the measuring thread, SCHED_FIFO on ctx->cpu) gets budget C = U% of
 * its period T: each period it runs m_jump columns until C is spent, then
 * sleeps. Sample per period = budget cycles per column (lower = more
 * progress). Modes:
 *   alone      nothing else;
 *   guest      the vLib OS guest runs m_jump unchecked on the peer CPU
 *              (started by an async call with no timeout: nobody limits it);
 *   host       (the paper's "quest") a second m_jump on the peer host CPU, a
 *              thread of the master, unchecked;
 *   host-throttled  (the paper's "quest + mem") that thread throttled by the
 *              same controller as below: it pauses between columns while
 *              the controller says so (the master descheduling its own
 *              thread, where Quest's scheduler stops a VCPU);
 *   throttled  the guest's m_jump runs inside a vLib call whose budget the
 *              master enforces: a controller thread on the peer CPU gives the
 *              guest C2 = U% of T2 in foreground, and lets it run in
 *              background only while the real-time task is not slowed by more
 *              than throttle_slack_pct over its alone speed (the paper uses a
 *              PMU latency signal; this machine has no PMU, so the task's own
 *              progress is the signal). Otherwise it deschedules the guest.
 *              The controller is the master: it runs on the real-time CPU
 *              (ticks of 1 ms at a priority above the task) and deschedules
 *              the guest remotely (a kick, as in experiment 3). It used to
 *              pin itself to the guest's CPU and hung there: a vCPU thread
 *              running guest code does not yield that CPU promptly (PVM),
 *              so the migration never finished and the join at the end
 *              waited forever.
 * The second m_jump (guest or host) walks corunner_kb of memory: by default
 * twice the last-level cache (the paper's 6 MB filled its 6 MB L3; a 6 MB
 * array sits inside a larger L3 and disturbs little), so that the
 * interference can be seen; each case reports its slowdown against the
 * task's alone speed and says whether it is above the noise.
 * Per period, data_dir/membus_periods.csv: the task's columns, cycles per
 * column, the co-runner's m_jump writes and the ms it was throttled.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <errno.h>

#include "../../loadgen/m_jump/mjump_core.h"
#include "host_corunner.h"
#include "vlib_calc.h"
#include "rtenv.h"
#include "vlib_exp.h"

enum membus_mode { MEMBUS_ALONE, MEMBUS_HOST, MEMBUS_HOST_THROTTLED, MEMBUS_GUEST, MEMBUS_THROTTLED };

/* Below this slowdown of the task's p50 against its alone speed, the report calls the interference not visible. */
#define MEMBUS_VISIBLE_PCT 5.0

/* Shared with the controller thread; lives in measure()'s frame, which joins it before returning. */
struct membus {
	struct mech_ctx *ctx;
	struct vlib_os *os;                  /* the guest co-runner, or NULL: */
	struct vlib_host_corunner *host;     /* the host co-runner thread */
	_Atomic int stop;
	_Atomic int rt_active;
	_Atomic uint64_t rt_column_cycles;   /* latest column of the real-time task */
	uint64_t baseline_column_cycles;
	_Atomic uint64_t throttled_ms;
	uint64_t background_ms, foreground_ms, ticks;
	int ctl_err;                         /* rtenv error making the controller SCHED_FIFO */
};

/* One period of the real-time task, written to membus_periods.csv after the loop. */
struct period_rec {
	uint64_t columns, cycles_per_column, guest_writes, throttled_ms;
	bool missed;
};

static void corunner_pause(struct membus *mb)
{
	if (mb->os)
		vlib_os_deschedule(mb->os);
	else
		vlib_host_corunner_allow(mb->host, false);
}

static void corunner_resume(struct membus *mb)
{
	if (mb->os)
		vlib_os_resume(mb->os);
	else
		vlib_host_corunner_allow(mb->host, true);
}

/* The master's budget enforcement for the co-runner (throttled modes). */
static void *controller(void *arg)
{
	struct membus *mb = arg;
	const struct vlib_cfg *cfg = mb->ctx->cfg;
	/* Inherits the real-time CPU from the measuring thread; one priority above it. */
	mb->ctl_err = rtenv_fifo_self(mb->ctx->priority > 0 && mb->ctx->priority < 99 ? mb->ctx->priority + 1 : 1);
	uint64_t period_ns = (uint64_t)cfg->guest_period_ms * 1000000u;
	uint64_t budget_ns = period_ns * (uint64_t)cfg->u_pct / 100u;
	uint64_t limit = mb->baseline_column_cycles * (100u + (uint64_t)cfg->throttle_slack_pct) / 100u;
	uint64_t start = vlib_now_ns(), tick = start;
	bool parked = false;
	while (!atomic_load(&mb->stop)) {
		tick += 1000000u;
		vlib_sleep_until_ns(tick);
		bool foreground = (tick - start) % period_ns < budget_ns;
		bool slowed = atomic_load(&mb->rt_active) && atomic_load(&mb->rt_column_cycles) > limit;
		bool run = foreground || !slowed;
		mb->foreground_ms += foreground;
		mb->background_ms += !foreground;
		mb->ticks++;
		if (!run)
			atomic_fetch_add_explicit(&mb->throttled_ms, 1, memory_order_relaxed);
		if (!run && !parked)
			corunner_pause(mb);
		if (run && parked)
			corunner_resume(mb);
		parked = !run;
	}
	if (parked)
		corunner_resume(mb);
	return NULL;
}

static void write_periods(struct mech_ctx *ctx, const struct period_rec *rec, uint64_t n)
{
	if (!ctx->data_dir)
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/membus_periods.csv", ctx->data_dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		report_kv(ctx->report, "membus_periods_csv", "cannot write %s", path);
		return;
	}
	fprintf(f, "period,rt_columns,rt_cycles_per_column,guest_mjump_writes,guest_throttled_ms,missed_deadline\n");
	for (uint64_t i = 0; i < n; i++)
		fprintf(f, "%llu,%llu,%llu,%llu,%llu,%d\n", (unsigned long long)i, (unsigned long long)rec[i].columns,
			(unsigned long long)rec[i].cycles_per_column, (unsigned long long)rec[i].guest_writes,
			(unsigned long long)rec[i].throttled_ms, rec[i].missed);
	fclose(f);
	report_kv(ctx->report, "membus_periods_csv", "%s", path);
	report_int(ctx->report, "membus_periods", (int64_t)n, "");   /* rows of the CSV, warm-up included */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* p50 of the task's columns per period over the measured (post warm-up) periods. */
static uint64_t median_columns(const struct period_rec *rec, uint64_t from, uint64_t n)
{
	if (n <= from)
		return 0;
	uint64_t *v = malloc((n - from) * sizeof(*v));
	if (!v)
		return 0;
	for (uint64_t i = from; i < n; i++)
		v[i - from] = rec[i].columns;
	qsort(v, n - from, sizeof(*v), cmp_u64);
	uint64_t m = v[(n - from) / 2];
	free(v);
	return m;
}

uint64_t vlib_llc_bytes(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/cpu0/cache/index3/size", "r");
	unsigned long long kb = 0;
	char unit = 'K';
	if (f) {
		if (fscanf(f, "%llu%c", &kb, &unit) < 1)
			kb = 0;
		fclose(f);
	}
	return unit == 'M' ? kb << 20 : kb << 10;
}

uint64_t vlib_corunner_bytes(int64_t corunner_kb)
{
	if (corunner_kb > 0)
		return (uint64_t)corunner_kb << 10;
	uint64_t llc = vlib_llc_bytes();
	return llc ? 2 * llc : VLIB_CORUNNER_DEFAULT_BYTES;
}

/* One column of the host co-runner's m_jump (host_corunner.h step). */
struct host_mjump {
	uint8_t *array;
	struct mjump_shape shape;
	uint64_t column;
};

static uint64_t host_mjump_step(void *arg)
{
	struct host_mjump *h = arg;
	return mjump_column(h->array, &h->shape, h->column++);
}

/*
 * The slowdown of the task's p50 cycles per column against its alone speed
 * (measured in this process before any co-runner started), and whether it
 * is large enough to see.
 */
static void report_interference(struct mech_ctx *ctx, const struct period_rec *rec, uint64_t from, uint64_t n,
				uint64_t alone_cycles, enum membus_mode mode)
{
	if (n <= from || !alone_cycles)
		return;
	uint64_t *v = malloc((n - from) * sizeof(*v));
	if (!v)
		return;
	for (uint64_t i = from; i < n; i++)
		v[i - from] = rec[i].cycles_per_column;
	double pct = vlib_slowdown_pct((double)vlib_quantile(v, n - from, 0.5), (double)alone_cycles);
	free(v);
	report_real(ctx->report, "slowdown_vs_alone_pct", pct, "%");
	if (mode == MEMBUS_ALONE)
		return;
	const char *config = mode == MEMBUS_HOST ? "quest" : mode == MEMBUS_HOST_THROTTLED ? "quest + mem"
			     : mode == MEMBUS_GUEST ? "linux" : "linux + mem";
	const struct vlib_cfg *cfg = ctx->cfg;
	if (pct >= MEMBUS_VISIBLE_PCT)
		report_kv(ctx->report, "interference", "visible: the task's p50 is %.1f%% slower than alone", pct);
	else
		report_kv(ctx->report, "interference", "not visible: the task's p50 is %+.1f%% from alone, under the %.0f%% "
			  "threshold: this co-runner does not disturb it here", pct, MEMBUS_VISIBLE_PCT);
	report_kv(ctx->report, "section_paper", "vlibos");
	report_kv(ctx->report, "section_note", "Figure 6, %s, U=%lld%%: interference %s (%+.1f%% vs alone)", config,
		  (long long)cfg->u_pct, pct >= MEMBUS_VISIBLE_PCT ? "visible" : "not visible", pct);
}

static uint64_t corunner_progress(struct vlib_chan_hdr *hdr, struct vlib_host_corunner *host)
{
	if (hdr)
		return hdr->progress;
	return host->started ? atomic_load_explicit(&host->progress, memory_order_relaxed) : 0;
}

static int membus_measure(struct mech_ctx *ctx, struct samples *s, enum membus_mode mode)
{
	const struct vlib_cfg *cfg = ctx->cfg;
	struct vlib_state *st = ctx->priv;
	struct mjump_shape shape = { .size_bytes = (uint64_t)cfg->mjump_kb << 10, .line_bytes = 64, .jump_bytes = 8192 };
	uint64_t max_periods = s->cap + s->warmup_target + 1;
	struct period_rec *rec = calloc(max_periods, sizeof(*rec));
	uint8_t *array = mmap(NULL, shape.size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (array == MAP_FAILED || !rec) {
		free(rec);
		if (array != MAP_FAILED)
			munmap(array, shape.size_bytes);
		return mech_why(ctx, BENCH_FAIL, "cannot allocate the m_jump array and period records");
	}
	memset(array, 1, shape.size_bytes);
	struct membus mb = { .ctx = ctx, .os = st->os };
	/* The alone speed, for the throttling signal (before the guest starts). */
	uint64_t t0 = tsc_start();
	for (uint64_t c = 0; c < 256; c++)
		mjump_column(array, &shape, c);
	mb.baseline_column_cycles = (tsc_end() - t0) / 256;

	_Atomic int guest_done = 0;
	pthread_t ctl;
	bool ctl_started = false;
	struct vlib_chan_hdr *hdr = NULL;
	struct vlib_host_corunner host = { 0 };
	struct host_mjump hm = { .shape = shape };
	hm.shape.size_bytes = vlib_corunner_bytes(cfg->corunner_kb);
	hm.array = MAP_FAILED;
	int rc = BENCH_OK;
	if (mode == MEMBUS_GUEST || mode == MEMBUS_THROTTLED) {
		rc = vlib_exp_guest_corunner_start(ctx, VLIB_OP_MJUMP, hm.shape.size_bytes, &guest_done, &hdr);
	} else if (mode == MEMBUS_HOST || mode == MEMBUS_HOST_THROTTLED) {
		hm.array = mmap(NULL, hm.shape.size_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				-1, 0);
		if (hm.array == MAP_FAILED)
			rc = mech_why_errno(ctx, BENCH_FAIL, "cannot map the co-runner's m_jump array");
		else if ((errno = vlib_host_corunner_start(&host, ctx->peer_cpu, host_mjump_step, &hm)) != 0)
			rc = mech_why_errno(ctx, BENCH_FAIL, "cannot start the co-runner thread");
		mb.host = &host;
	}
	if (rc == BENCH_OK && (mode == MEMBUS_THROTTLED || mode == MEMBUS_HOST_THROTTLED)) {
		if (pthread_create(&ctl, NULL, controller, &mb) != 0)
			rc = mech_why(ctx, BENCH_FAIL, "cannot start the controller");
		else
			ctl_started = true;
	}
	uint64_t period_ns = (uint64_t)cfg->period_ms * 1000000u;
	uint64_t budget_cycles = tsc_ns_to_cycles(period_ns * (uint64_t)cfg->u_pct / 100u, ctx->tsc->tsc_khz);
	uint64_t next = vlib_now_ns() + period_ns, columns_total = 0, periods = 0, column = 0;
	uint64_t guest_writes0 = corunner_progress(hdr, &host), wall0 = vlib_now_ns();
	uint64_t guest_prev = guest_writes0, throttled_prev = 0;
	while (rc == BENCH_OK && !samples_full(s) && periods < max_periods) {
		atomic_store(&mb.rt_active, 1);
		uint64_t start = tsc_start(), now = start, columns = 0;
		while (now - start < budget_cycles) {
			uint64_t c0 = now;
			mjump_column(array, &shape, column++);
			now = tsc_end();
			atomic_store_explicit(&mb.rt_column_cycles, now - c0, memory_order_relaxed);
			columns++;
		}
		atomic_store(&mb.rt_active, 0);
		uint64_t per_column = (now - start) / (columns ? columns : 1);
		samples_add(s, per_column);
		struct period_rec *r = &rec[periods];
		r->columns = columns;
		r->cycles_per_column = per_column;
		uint64_t g = corunner_progress(hdr, &host), th = atomic_load_explicit(&mb.throttled_ms, memory_order_relaxed);
		r->guest_writes = g - guest_prev;
		r->throttled_ms = th - throttled_prev;
		guest_prev = g;
		throttled_prev = th;
		columns_total += columns;
		periods++;
		r->missed = vlib_now_ns() > next;
		s->missed += r->missed;
		vlib_sleep_until_ns(next);
		next += period_ns;
	}
	double wall_s = (double)(vlib_now_ns() - wall0) / 1e9;
	atomic_store(&mb.stop, 1);
	if (ctl_started)
		pthread_join(ctl, NULL);   /* it resumes the guest if it had parked it */
	if (host.started) {
		vlib_host_corunner_stop(&host);
		report_real(ctx->report, "corunner_mjump_writes_per_s", (double)(atomic_load(&host.progress) - guest_writes0) /
			    wall_s, "writes/s");
		if (host.pin_err)
			report_kv(ctx->report, "corunner_cpu", "not pinned: %s", strerror(host.pin_err));
	}
	if (hm.array != MAP_FAILED)
		munmap(hm.array, hm.shape.size_bytes);
	if (mode != MEMBUS_ALONE) {
		report_int(ctx->report, "corunner_bytes", (int64_t)hm.shape.size_bytes, "bytes");
		report_int(ctx->report, "llc_bytes", (int64_t)vlib_llc_bytes(), "bytes");   /* 0: sysfs does not say */
	}
	if (hdr) {
		report_real(ctx->report, "corunner_mjump_writes_per_s", (double)(hdr->progress - guest_writes0) / wall_s,
			    "writes/s");
		rc = vlib_exp_guest_corunner_stop(ctx, hdr, &guest_done, rc);
	}
	munmap(array, shape.size_bytes);
	if (rc != BENCH_OK) {
		free(rec);
		return rc;
	}
	write_periods(ctx, rec, periods);
	uint64_t writes_per_column = shape.size_bytes / shape.jump_bytes;
	/* the task's progress per period (warm-up included in the mean, not in the p50) */
	report_real(ctx->report, "rt_columns_per_period_mean", periods ? (double)columns_total / (double)periods : 0.0,
		    "columns");
	report_int(ctx->report, "rt_columns_per_period_p50", (int64_t)median_columns(rec, s->warmup_discarded, periods),
		   "columns");
	report_int(ctx->report, "mjump_writes_per_column", (int64_t)writes_per_column, "writes");
	report_real(ctx->report, "rt_writes_per_s_in_budget",
		    (double)columns_total * (double)writes_per_column /
		    ((double)periods * (double)period_ns * (double)cfg->u_pct / 100.0 / 1e9), "writes/s");
	report_int(ctx->report, "alone_column_cycles_at_start", (int64_t)mb.baseline_column_cycles, "cycles");
	report_interference(ctx, rec, s->warmup_discarded, periods, mb.baseline_column_cycles, mode);
	if (mode == MEMBUS_THROTTLED || mode == MEMBUS_HOST_THROTTLED)
		report_kv(ctx->report, "budget", "C = %lld%% of T = %lld ms (co-runner: %lld%% of %lld ms)", (long long)cfg->u_pct,
			  (long long)cfg->period_ms, (long long)cfg->u_pct, (long long)cfg->guest_period_ms);
	else
		report_kv(ctx->report, "budget", "C = %lld%% of T = %lld ms", (long long)cfg->u_pct, (long long)cfg->period_ms);
	if (mode == MEMBUS_THROTTLED || mode == MEMBUS_HOST_THROTTLED) {
		report_int(ctx->report, "corunner_throttled_ms", (int64_t)atomic_load(&mb.throttled_ms), "ms");
		report_int(ctx->report, "corunner_background_ms", (int64_t)mb.background_ms, "ms");
		report_int(ctx->report, "controller_ticks", (int64_t)mb.ticks, "");   /* of 1 ms */
		report_kv(ctx->report, "throttle_signal", "RT column slower than %lld%% over its alone speed",
			  (long long)cfg->throttle_slack_pct);
		if (mb.ctl_err)
			report_kv(ctx->report, "controller_priority", "not SCHED_FIFO: %s", strerror(mb.ctl_err));
	}
	report_kv(ctx->report, "machine_caveat", "this machine has 2 CPUs, no PMU and runs in a VM with a software KVM: "
		  "bus contention and the throttling signal (the RT task's own progress, not uncore latency) are approximations");
	free(rec);
	return BENCH_OK;
}

int exp_membus_alone_measure(struct mech_ctx *ctx, struct samples *s)
{
	return membus_measure(ctx, s, MEMBUS_ALONE);
}

int exp_membus_host_measure(struct mech_ctx *ctx, struct samples *s)
{
	return membus_measure(ctx, s, MEMBUS_HOST);
}

int exp_membus_host_throttled_measure(struct mech_ctx *ctx, struct samples *s)
{
	return membus_measure(ctx, s, MEMBUS_HOST_THROTTLED);
}

int exp_membus_guest_measure(struct mech_ctx *ctx, struct samples *s)
{
	return membus_measure(ctx, s, MEMBUS_GUEST);
}

int exp_membus_throttled_measure(struct mech_ctx *ctx, struct samples *s)
{
	return membus_measure(ctx, s, MEMBUS_THROTTLED);
}
