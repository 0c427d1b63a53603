/* The service manager's applications, monitors and actuators (csm_apps.h). */
#include "csm_apps.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peer.h"
#include "rtenv.h"

#define PROC_STAT_BYTES 1024
#define STATE_WAIT_MS 2000

/* Spin until told to stop or the deadline passes; stamp resumes after gaps. */
static int app_main(void *arg)
{
	struct csm_app_shared *sh = arg;
	uint64_t deadline = atomic_load(&sh->deadline_cycles);
	uint64_t prev = tsc_start();

	for (uint64_t n = 1;; n++) {
		uint64_t now = tsc_start();
		/* the first resume after the manager armed the stamp by zeroing it */
		if (now - prev > sh->gap_cycles && atomic_load_explicit(&sh->resume_cycles, memory_order_relaxed) == 0) {
			atomic_store_explicit(&sh->resume_cycles, now, memory_order_relaxed);
			atomic_fetch_add_explicit(&sh->resumes, 1, memory_order_release);
		}
		prev = now;
		if ((n & 255) == 0 && (atomic_load_explicit(&sh->stop, memory_order_relaxed) || now > deadline))
			return 0;
	}
}

int csm_raise_manager(struct mech_ctx *ctx, int priority)
{
	int err = rtenv_fifo_self(priority);

	if (err == EPERM)
		return mech_why(ctx, BENCH_SKIP, "SCHED_FIFO %d for the manager: %s", priority, strerror(err));
	if (err)
		return mech_why(ctx, BENCH_FAIL, "SCHED_FIFO %d for the manager: %s", priority, strerror(err));
	return BENCH_OK;
}

int csm_apps_probe(struct mech_ctx *ctx)
{
	if (ctx->cpu < 0)
		return mech_why(ctx, BENCH_SKIP, "the service manager needs a pinned CPU for its real-time apps");
	return BENCH_OK;
}

int csm_apps_start(struct mech_ctx *ctx, struct csm_apps *a, unsigned n, const int *priorities)
{
	memset(a, 0, sizeof(*a));
	a->sh = peer_shared_alloc(sizeof(*a->sh));
	if (!a->sh)
		return mech_why_errno(ctx, BENCH_FAIL, "shared page for the apps");
	uint64_t life_ns = ctx->timeout_ns ? ctx->timeout_ns : 60000000000ull;
	atomic_store(&a->sh->deadline_cycles, tsc_start() + tsc_ns_to_cycles(life_ns, ctx->tsc->tsc_khz));
	a->sh->gap_cycles = tsc_ns_to_cycles(500, ctx->tsc->tsc_khz);
	for (unsigned i = 0; i < n && i < CSM_APPS_MAX; i++) {
		struct mech_ctx pctx = *ctx;
		pctx.peer_cpu = ctx->cpu;
		pctx.priority = priorities[i];
		int err = peer_process_start(&pctx, &a->pid[i], app_main, a->sh);
		if (err)
			return mech_why(ctx, BENCH_FAIL, "starting app %u: %s", i + 1, strerror(err));
		a->n++;
		a->priority[i] = priorities[i];
		a->running[i] = true;
		if (clock_getcpuclockid(a->pid[i], &a->clock[i]) != 0)
			return mech_why(ctx, BENCH_FAIL, "clock_getcpuclockid of app %u", i + 1);
	}
	return BENCH_OK;
}

void csm_apps_stop(struct csm_apps *a)
{
	if (!a->sh)
		return;
	atomic_store(&a->sh->stop, 1);
	for (unsigned i = 0; i < a->n; i++)
		(void)kill(a->pid[i], SIGCONT);   /* a stopped app must run to see the flag; reaping bounds the rest */
	for (unsigned i = 0; i < a->n; i++)
		peer_process_reap(a->pid[i], PEER_REAP_TIMEOUT_MS);
	/* n, pids and priorities stay readable for the results */
	peer_shared_free(a->sh, sizeof(*a->sh));
	a->sh = NULL;
}

/* Wait (polling, bounded) until waitpid reports the app stopped or continued. */
static int wait_state(pid_t pid, int flags, bool want_stopped)
{
	for (unsigned ms = 0; ms < STATE_WAIT_MS; ms++) {
		int status;
		pid_t r = waitpid(pid, &status, flags | WNOHANG);
		if (r < 0 && errno != EINTR)
			return errno;
		if (r == pid && (want_stopped ? WIFSTOPPED(status) : WIFCONTINUED(status)))
			return 0;
		if (r == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			return ESRCH;
		if (r == 0)
			usleep(1000);   /* the app needs the CPU to act on the signal */
	}
	return ETIMEDOUT;
}

/*
 * Stop every app first: a stop takes effect when the app next runs, and a
 * lower-priority app runs only once those above it are stopped.
 */
int csm_apps_check_stop_cont(struct csm_apps *a)
{
	int err = 0;

	for (unsigned i = 0; i < a->n && !err; i++)
		err = csm_app_set_running(a, i, false);
	for (unsigned i = 0; i < a->n && !err; i++)
		err = wait_state(a->pid[i], WUNTRACED, true);
	for (unsigned i = 0; i < a->n; i++) {
		int e = csm_app_set_running(a, i, true);
		if (!err)
			err = e;
	}
	for (unsigned i = 0; i < a->n && !err; i++)
		err = wait_state(a->pid[i], WCONTINUED, false);
	return err;
}

int csm_cpuclock_ns(clockid_t clock, uint64_t *ns)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return errno;
	*ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return 0;
}

/* utime and stime are fields 14 and 15; field 2 (comm) may hold spaces, so count from its ')'. */
static int parse_stat(const char *buf, uint64_t *ticks)
{
	const char *p = strrchr(buf, ')');
	unsigned long long utime, stime;

	if (!p)
		return EPROTO;
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return EPROTO;
	*ticks = utime + stime;
	return 0;
}

int csm_proc_stat_ns(pid_t pid, uint64_t *ns)
{
	static long hz;
	char path[64], buf[PROC_STAT_BYTES];
	uint64_t ticks;

	if (!hz && (hz = sysconf(_SC_CLK_TCK)) <= 0)
		return EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	ssize_t r = read(fd, buf, sizeof(buf) - 1);
	int err = r < 0 ? errno : 0;
	close(fd);
	if (err)
		return err;
	buf[r] = '\0';
	err = parse_stat(buf, &ticks);
	if (!err)
		*ns = ticks * (1000000000ull / (uint64_t)hz);
	return err;
}
