/* Fork-per-case runner with timeouts and process-group cleanup. */
#include "runner.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loadgen.h"
#include "output.h"

const char *case_phase_name(int phase)
{
	static const char *const names[] = { "start", "probe", "load start", "setup", "measure",
					     "teardown", "load stop", "done" };
	return phase >= 0 && phase <= PHASE_DONE ? names[phase] : "?";
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resolve cpu/peer_cpu (-1 = automatic) against the CPUs we may use. */
static int resolve_cpus(const struct case_settings *set, int *cpu, int *peer, char *why, size_t len)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		CPU_ZERO(&allowed);
	int first = -1, last = -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed)) {
			if (first < 0)
				first = c;
			last = c;
		}
	*cpu = set->cpu >= 0 ? (int)set->cpu : last;
	if (set->peer_cpu >= 0) {
		*peer = (int)set->peer_cpu;
	} else {
		*peer = *cpu;
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &allowed) && c != *cpu) {
				*peer = c;
				break;
			}
	}
	if (*cpu < 0 || !CPU_ISSET(*cpu, &allowed)) {
		snprintf(why, len, "CPU %d is not available here (%d CPUs allowed)", *cpu, CPU_COUNT(&allowed));
		return -1;
	}
	if (!CPU_ISSET(*peer, &allowed)) {
		snprintf(why, len, "peer CPU %d is not available here (%d CPUs allowed)", *peer, CPU_COUNT(&allowed));
		return -1;
	}
	return 0;
}

/* Needs that the case's flags declare, checked before forking: skip is data. */
static int check_needs(unsigned flags, const char *kmod, int cpu, int peer, char *why, size_t len)
{
	if (flags & MECH_NEEDS_KMOD) {
		char path[160];
		snprintf(path, sizeof(path), "/sys/module/%s", kmod ? kmod : "(unnamed)");
		if (access(path, F_OK) != 0) {
			snprintf(why, len, "module %s not loaded (load it: insmod build/kmods/%s.ko, built by "
				 "meson from kmods/; see README, kmod)", kmod, kmod);
			return -1;
		}
	}
	if ((flags & MECH_NEEDS_ROOT) && geteuid() != 0) {
		snprintf(why, len, "needs root");
		return -1;
	}
	if ((flags & MECH_NEEDS_2CPUS) && cpu == peer) {
		snprintf(why, len, "needs two CPUs (cpu and peer_cpu are both %d)", cpu);
		return -1;
	}
	if ((flags & MECH_NEEDS_KVM) && access("/dev/kvm", R_OK | W_OK) != 0) {
		snprintf(why, len, "needs /dev/kvm: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void set_why(struct child_shared *sh, int rc, const char *why)
{
	sh->rc = rc;
	snprintf(sh->why, sizeof(sh->why), "%s", why[0] ? why : "(no reason given)");
}

/* mech_abort() in the case process: the reason goes to the parent, the process ends now. */
static void child_abort(struct mech_ctx *ctx, int rc)
{
	struct child_shared *sh = ctx->harness_priv;
	set_why(sh, rc == BENCH_OK ? BENCH_FAIL : rc, ctx->why);
	sh->aborted = 1;
	_exit(0);
}

/* The case process. Never returns. */
static void child_main(const struct case_spec *cs, const struct run_env *env, struct child_shared *sh,
		       int cpu, int peer, const char *data_dir)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_IGN);   /* the harness decides; it kills our group */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);

	struct rtenv_request req = {
		.mlock = cs->set.mlock, .priority = (int)cs->set.priority, .cpu = cpu,
		.dma_latency = cs->set.dma_latency, .timer_slack_ns = cs->set.timer_slack_ns,
	};
	rtenv_apply(&req, &sh->rt);
	char refused[400];
	bool degraded = rtenv_refused(&req, &sh->rt, refused, sizeof(refused)) > 0;
	if (degraded && !cs->set.degrade) {
		char why[sizeof(sh->why)];
		snprintf(why, sizeof(why), "refused %s; degrade = true runs without", refused);
		set_why(sh, BENCH_SKIP, why);
		rtenv_release(&sh->rt);
		sh->phase = PHASE_DONE;
		_exit(0);
	}
	if (degraded)
		snprintf(sh->ran_without, sizeof(sh->ran_without), "%s", refused);
	tsc_measure_overhead(&sh->overhead, 5, 2000);

	const struct experiment_ops ex = experiment_ops(cs->mech, (unsigned)cs->variant);
	struct mech_ctx ctx = {
		.ops = cs->mech, .exp = &cs->mech->variants[cs->variant], .variant = (unsigned)cs->variant,
		.variant_name = cs->mech->variants[cs->variant].name,
		.cfg = cs->mech_cfg, .cpu = cpu, .peer_cpu = peer,
		/* what is in effect: peers follow the measuring thread, refused or not */
		.priority = sh->rt.priority.ok ? (int)cs->set.priority : 0, .mlock = cs->set.mlock && sh->rt.mlock.ok,
		.timeout_ns = (uint64_t)cs->set.timeout_s * 1000000000u, .tsc = env->tsc,
		.report = &sh->report, .data_dir = data_dir, .abort_case = child_abort, .harness_priv = sh,
	};
	struct load_ctx lctx = {
		.ops = cs->load, .cfg = cs->load_cfg, .cpu = peer, .case_cpu = cpu, .tsc = env->tsc, .report = &sh->load_report,
	};
	int rc = BENCH_OK;
	if (cs->mech->priv_size) {
		ctx.priv = calloc(1, cs->mech->priv_size);
		if (!ctx.priv)
			rc = mech_why(&ctx, BENCH_FAIL, "cannot allocate %zu bytes of mechanism state", cs->mech->priv_size);
	}
	sh->phase = PHASE_PROBE;
	if (rc == BENCH_OK && ex.probe)
		rc = ex.probe(&ctx);
	if (rc == BENCH_OK && cs->load) {
		sh->phase = PHASE_LOAD_START;
		if (cs->load->priv_size && !(lctx.priv = calloc(1, cs->load->priv_size)))
			rc = load_why(&lctx, BENCH_FAIL, "cannot allocate %zu bytes of load state", cs->load->priv_size);
		if (rc == BENCH_OK && cs->load->probe)
			rc = cs->load->probe(&lctx);
		if (rc == BENCH_OK)
			rc = cs->load->start(&lctx);
		if (rc != BENCH_OK) {
			char why[256];
			snprintf(why, sizeof(why), "load %.40s: %.200s", cs->load->name, lctx.why);
			set_why(sh, rc, why);
			sh->phase = PHASE_DONE;
			_exit(0);
		}
	}
	if (rc == BENCH_OK) {
		sh->phase = PHASE_SETUP;
		if (ex.setup)
			rc = ex.setup(&ctx);
	}
	if (rc == BENCH_OK) {
		samples_prefault(&sh->s);
		const char *names[PMU_MAX_EVENTS];
		for (unsigned i = 0; i < cs->n_pmu; i++)
			names[i] = cs->pmu_events[i];
		pmu_open(&sh->pmu, names, cs->n_pmu);
		sh->phase = PHASE_MEASURE;
		uint64_t t0 = now_ns();
		if (cs->set.duration_s > 0)
			sh->s.deadline_tsc = __rdtsc() + (uint64_t)cs->set.duration_s * env->tsc->tsc_khz * 1000u;
		pmu_start(&sh->pmu);
		rc = ex.measure(&ctx, &sh->s);
		pmu_stop(&sh->pmu);
		sh->measure_ns = now_ns() - t0;
		if (sh->s.stream)
			samples_stream_finish(sh->s.stream);
		pmu_close(&sh->pmu);
	}
	sh->phase = PHASE_TEARDOWN;
	if (ex.teardown)
		ex.teardown(&ctx);
	free(ctx.priv);
	if (cs->load) {
		sh->phase = PHASE_LOAD_STOP;
		if (cs->load->stop(&lctx) != BENCH_OK && rc == BENCH_OK) {
			rc = BENCH_FAIL;
			snprintf(ctx.why, sizeof(ctx.why), "load %.40s: %.200s", cs->load->name, lctx.why);
		}
		free(lctx.priv);
	}
	rtenv_release(&sh->rt);
	if (rc != BENCH_OK)
		set_why(sh, rc, ctx.why);
	else
		sh->rc = BENCH_OK;
	sh->phase = PHASE_DONE;
	_exit(0);
}

/* Wait for the child until deadline_ns; returns 1 when it exited, 0 on timeout, -1 if interrupted. */
/* Long cases print where they are every RUNNER_PROGRESS_S seconds. */
struct progress {
	const struct child_shared *sh;
	const char *name;
	uint64_t start_ns, next_ns;
	int64_t duration_s;   /* a duration_s case: it runs to a time, not to a count */
};

static void progress_tick(struct progress *pr, uint64_t now)
{
	if (!pr || now < pr->next_ns)
		return;
	pr->next_ns = now + RUNNER_PROGRESS_S * 1000000000ull;
	if (pr->duration_s > 0)
		fprintf(stderr, "      %s: %s, %llu samples after %.0f s (measuring for %lld s)\n", pr->name,
			case_phase_name(pr->sh->phase), (unsigned long long)pr->sh->s.count,
			(double)(now - pr->start_ns) / 1e9, (long long)pr->duration_s);
	else
		fprintf(stderr, "      %s: %s, %llu of %llu samples after %.0f s\n", pr->name,
			case_phase_name(pr->sh->phase), (unsigned long long)pr->sh->s.count,
			(unsigned long long)pr->sh->s.cap, (double)(now - pr->start_ns) / 1e9);
}

static int wait_exit(int pidfd, pid_t pid, uint64_t deadline_ns, volatile int *interrupted, struct progress *pr)
{
	for (;;) {
		if (interrupted && *interrupted)
			return -1;
		uint64_t now = now_ns();
		progress_tick(pr, now);
		if (now >= deadline_ns)
			return 0;
		uint64_t left_ms = (deadline_ns - now) / 1000000u + 1;
		int slice = left_ms > 200 ? 200 : (int)left_ms;
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			if (poll(&p, 1, slice) > 0)
				return 1;
		} else {
			/* no pidfd (old kernel): look without reaping, then sleep a slice */
			siginfo_t info;
			memset(&info, 0, sizeof(info));
			if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
				return 1;
			usleep((useconds_t)slice * 1000u);
		}
	}
}

static void kill_group(pid_t pgid, int sig)
{
	(void)kill(-pgid, sig);   /* ESRCH: the group is already gone, which is fine */
}

/*
 * The harness is a child subreaper (runner_init), so processes the case
 * orphaned are re-parented to us: reap those of its group, for a bounded time.
 */
static void reap_orphans(pid_t pgid)
{
	for (int tries = 0; tries < 100; tries++) {
		int st;
		pid_t p = waitpid(-pgid, &st, WNOHANG);
		if (p < 0)
			return;          /* ECHILD: none left */
		if (p == 0)
			usleep(10000);   /* killed but not dead yet */
	}
}

uint64_t runner_subtract_cycles(const struct case_spec *cs, const struct case_result *r)
{
	const struct tsc_overhead *o = &r->sh->overhead;
	unsigned flags = experiment_flags(cs->mech, (unsigned)cs->variant);
	return (flags & MECH_SUBTRACT_PROBE_OVERHEAD) && o->stable ? o->min_cycles : 0;
}

/* A streamed case's per-interval summaries as DIR/data/CASE/intervals.csv, in ns (plots/data_files.toml). */
static void write_intervals(const struct case_spec *cs, const struct run_env *env, struct case_result *r,
			    const char *data_dir)
{
	const struct samples_stream *st = r->sh->s.stream;
	if (!st || st->iv_n == 0)
		return;
	char path[4200];
	snprintf(path, sizeof(path), "%s/intervals.csv", data_dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(r->output_error, sizeof(r->output_error), "cannot write %.200s: %s", path, strerror(errno));
		return;
	}
	bool cycles = r->sh->s.unit == SAMPLE_CYCLES;
	uint64_t sub = cycles ? runner_subtract_cycles(cs, r) : 0;
	fprintf(f, "interval,end_s,count,min_ns,max_ns,p99_ns\n");
	for (uint64_t i = 0; i < st->iv_n; i++) {
		const struct samples_interval *iv = &st->iv[i];
		uint64_t v[3] = { iv->min, iv->max, iv->p99 };
		for (int k = 0; k < 3; k++)
			if (cycles)
				v[k] = tsc_cycles_to_ns(v[k] > sub ? v[k] - sub : 0, env->tsc->tsc_khz);
		fprintf(f, "%llu,%.3f,%llu,%llu,%llu,%llu\n", (unsigned long long)i,
			(double)(i + 1) * (double)cs->set.stream_interval_ms / 1000.0, (unsigned long long)iv->count,
			(unsigned long long)v[0], (unsigned long long)v[1], (unsigned long long)v[2]);
	}
	if (fclose(f) != 0)
		snprintf(r->output_error, sizeof(r->output_error), "cannot write %.200s: %s", path, strerror(errno));
}

bool runner_streamed(const struct case_settings *set)
{
	return set->duration_s > 0 || !set->keep_samples || set->samples > SUITE_KEEP_SAMPLES_MAX;
}

void runner_init(void)
{
	prctl(PR_SET_CHILD_SUBREAPER, 1);
}

void runner_run_case(const struct case_spec *cs, const struct run_env *env, struct case_result *r)
{
	memset(r, 0, sizeof(*r));
	uint64_t t_start = now_ns();
	char why[256];
	if (resolve_cpus(&cs->set, &r->cpu, &r->peer_cpu, why, sizeof(why)) ||
	    check_needs(experiment_flags(cs->mech, (unsigned)cs->variant) | (cs->load ? cs->load->flags : 0),
			experiment_kmod(cs->mech, (unsigned)cs->variant), r->cpu, r->peer_cpu, why, sizeof(why))) {
		r->status = CS_SKIP;
		snprintf(r->status_text, sizeof(r->status_text), "skip: %s", why);
		return;
	}

	char data_dir[4096];
	snprintf(data_dir, sizeof(data_dir), "%s/data/%s", env->out_dir ? env->out_dir : ".", cs->name);
	if (mkdir_p(data_dir) != 0) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: cannot create %.200s: %s", data_dir,
			 strerror(errno));
		return;
	}

	bool streamed = runner_streamed(&cs->set);
	uint64_t n = cs->set.duration_s > 0 ? UINT64_MAX : (uint64_t)cs->set.samples;
	/* a streamed case cannot outlive its timeout: room for one interval per stream_interval_ms of it, and two more */
	uint64_t intervals = (uint64_t)cs->set.timeout_s * 1000u / (uint64_t)cs->set.stream_interval_ms + 2;
	r->sh_len = sizeof(struct child_shared) +
		    (streamed ? sizeof(struct samples_stream) + samples_stream_bytes(intervals) : n * sizeof(uint64_t));
	void *mem = mmap(NULL, r->sh_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: cannot map %zu bytes for samples: %s",
			 r->sh_len, strerror(errno));
		r->sh_len = 0;
		return;
	}
	r->sh = mem;
	r->sh->rc = BENCH_FAIL;
	if (streamed) {
		struct samples_stream *st = (struct samples_stream *)(r->sh + 1);
		samples_stream_init(st, st + 1, intervals, (uint64_t)cs->set.stream_interval_ms * env->tsc->tsc_khz);
		r->sh->s.stream = st;
	} else {
		r->sh->s.v = (uint64_t *)(r->sh + 1);
	}
	r->sh->s.cap = n;
	r->sh->s.warmup_target = (uint64_t)cs->set.warmup;
	r->sh->s.unit = experiment_unit(cs->mech, (unsigned)cs->variant);

	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		child_main(cs, env, r->sh, r->cpu, r->peer_cpu, data_dir);
	}
	setpgid(pid, pid);   /* also here: no race with the child's own call */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	uint64_t deadline = t_start + (uint64_t)cs->set.timeout_s * 1000000000u;
	struct progress pr = { .sh = r->sh, .name = cs->name, .start_ns = t_start,
			       .next_ns = t_start + RUNNER_PROGRESS_S * 1000000000ull, .duration_s = cs->set.duration_s };
	int w = wait_exit(pidfd, pid, deadline, env->interrupted, &pr);
	bool timed_out = w == 0, interrupted = w < 0;
	bool unkillable = false;
	if (w <= 0) {
		kill_group(pid, SIGTERM);
		if (wait_exit(pidfd, pid, now_ns() + RUNNER_GRACE_MS * 1000000ull, NULL, NULL) == 0) {
			kill_group(pid, SIGKILL);
			/* a process starved of CPU (another real-time hog) may take long to die */
			unkillable = wait_exit(pidfd, pid, now_ns() + RUNNER_REAP_MS * 1000000ull, NULL, NULL) == 0;
		}
	}
	int status = 0;
	if (!unkillable) {
		struct rusage ru;
		memset(&ru, 0, sizeof(ru));
		while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR)
			;
		r->case_max_rss_kb = (uint64_t)ru.ru_maxrss;
	}
	if (pidfd >= 0)
		close(pidfd);
	/*
	 * Whatever of the case's group is still alive (an unreaped peer, a load)
	 * dies now. Orphans that already exited are zombies of ours (we are the
	 * subreaper): reap those first, so that they do not count as leftovers.
	 */
	int orphan_status;   /* not the case's: its status stays in status */
	while (waitpid(-pid, &orphan_status, WNOHANG) > 0)
		;
	if (kill(-pid, 0) == 0) {
		r->leftovers_killed = true;
		kill_group(pid, SIGKILL);
	}
	reap_orphans(pid);
	if (r->sh->phase == PHASE_DONE)
		write_intervals(cs, env, r, data_dir);
	rmdir(data_dir);   /* only succeeds when the case wrote nothing there */
	r->elapsed_s = (double)(now_ns() - t_start) / 1e9;

	if (interrupted) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: interrupted in %s",
			 case_phase_name(r->sh->phase));
	} else if (timed_out) {
		r->status = CS_TIMEOUT;
		snprintf(r->status_text, sizeof(r->status_text), "timeout");
		r->unreaped = unkillable;
	} else if (WIFSIGNALED(status)) {
		r->status = CS_SIGNAL;
		snprintf(r->status_text, sizeof(r->status_text), "signal: %d", WTERMSIG(status));
	} else if (r->sh->aborted) {
		r->status = r->sh->rc == BENCH_SKIP ? CS_SKIP : CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "%s: %s", r->status == CS_SKIP ? "skip" : "fail", r->sh->why);
	} else if (WEXITSTATUS(status) != 0 || r->sh->phase != PHASE_DONE) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: case process exited with %d in %s",
			 WEXITSTATUS(status), case_phase_name(r->sh->phase));
	} else if (r->sh->rc == BENCH_SKIP) {
		r->status = CS_SKIP;
		snprintf(r->status_text, sizeof(r->status_text), "skip: %s", r->sh->why);
	} else if (r->sh->rc != BENCH_OK) {
		r->status = CS_FAIL;
		snprintf(r->status_text, sizeof(r->status_text), "fail: %s", r->sh->why);
	} else if (cs->set.duration_s > 0 ? r->sh->s.count == 0 : r->sh->s.count != r->sh->s.cap) {
		r->status = CS_FAIL;
		if (cs->set.duration_s > 0)
			snprintf(r->status_text, sizeof(r->status_text), "fail: measure() recorded no sample in %lld s",
				 (long long)cs->set.duration_s);
		else
			snprintf(r->status_text, sizeof(r->status_text), "fail: measure() returned with %llu of %llu samples",
				 (unsigned long long)r->sh->s.count, (unsigned long long)r->sh->s.cap);
	} else {
		r->status = CS_OK;
		snprintf(r->status_text, sizeof(r->status_text), "ok");
	}
	/* Commas and newlines would be legal CSV once quoted, but keep status one plain line. */
	for (char *p = r->status_text; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

void runner_release(struct case_result *r)
{
	if (r->sh)
		munmap(r->sh, r->sh_len);
	r->sh = NULL;
	r->sh_len = 0;
}
