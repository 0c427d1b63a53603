/* The repeating-program load process (roundloop.h). */
#include "roundloop.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mechanism.h"
#include "peer.h"
#include "scratch.h"

#define ROUNDLOOP_KILL_MS 2000

/*
 * Set by SIGTERM in the load process only (its own copy after fork): the
 * one file-scope variable a signal handler needs, never per-case state of
 * the case process.
 */
static volatile sig_atomic_t roundloop_stop_req;

static void on_term(int sig)
{
	(void)sig;
	roundloop_stop_req = 1;
}

uint64_t roundloop_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int roundloop_run(pid_t pid, const char *log_path, char *why, size_t why_len)
{
	int status = 0;
	int w = scratch_wait(pid, &roundloop_stop_req, &status);
	if (w == 1) {
		snprintf(why, why_len, "stopped while preparing");
		return -1;   /* the caller's process kills it on the way out */
	}
	if (w < 0) {
		snprintf(why, why_len, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		scratch_describe_exit(status, log_path, why, why_len);
		return -1;
	}
	return 0;
}

struct loop_args {
	const struct roundloop_ops *ops;
	void *arg;
	struct roundloop_shared *sh;
};

static int loop_fail(struct roundloop_shared *sh)
{
	atomic_store(&sh->state, ROUNDLOOP_FAILED);
	scratch_kill_children(ROUNDLOOP_KILL_MS);
	return 1;
}

/* The load process. */
static int loop_main(void *p)
{
	struct loop_args *a = p;
	struct roundloop_shared *sh = a->sh;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;   /* no SA_RESTART: waits end at once */
	sigaction(SIGTERM, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	uint64_t t0 = roundloop_now_ns();
	if (a->ops->prepare(a->arg, sh->why, sizeof(sh->why)) != 0)
		return loop_fail(sh);
	sh->prepare_ns = roundloop_now_ns() - t0;
	bool first = true;
	while (!roundloop_stop_req) {
		uint64_t r0 = roundloop_now_ns();
		pid_t pid = a->ops->round_start(a->arg, sh->why, sizeof(sh->why));
		if (pid < 0)
			return loop_fail(sh);
		if (first) {
			sh->first_ns = r0;
			atomic_store(&sh->state, ROUNDLOOP_RUNNING);
			first = false;
		}
		int status = 0;
		int w = scratch_wait(pid, &roundloop_stop_req, &status);
		if (w == 1) {   /* cut short: kill the round, count what it did */
			kill(pid, SIGKILL);
			scratch_kill_children(ROUNDLOOP_KILL_MS);
			if (a->ops->cut_short)
				a->ops->cut_short(a->arg, sh);
			break;
		}
		if (w < 0) {
			snprintf(sh->why, sizeof(sh->why), "waitpid: %s", strerror(errno));
			return loop_fail(sh);
		}
		if (a->ops->round_end(a->arg, status, sh->why, sizeof(sh->why)) != 0)
			return loop_fail(sh);
		atomic_fetch_add(&sh->round_ns, roundloop_now_ns() - r0);
		atomic_fetch_add(&sh->rounds, 1);
	}
	scratch_kill_children(ROUNDLOOP_KILL_MS);
	sh->end_ns = roundloop_now_ns();
	atomic_store(&sh->state, ROUNDLOOP_STOPPED);
	return 0;
}

int roundloop_start(struct roundloop *rl, const struct roundloop_ops *ops, void *arg, int cpu,
		    unsigned ready_timeout_ms, char *why, size_t why_len)
{
	memset(rl, 0, sizeof(*rl));
	rl->sh = peer_shared_alloc(sizeof(*rl->sh));
	if (!rl->sh) {
		snprintf(why, why_len, "cannot map shared memory: %s", strerror(errno));
		return -1;
	}
	struct loop_args a = { .ops = ops, .arg = arg, .sh = rl->sh };   /* copied by fork */
	struct mech_ctx placed = { .peer_cpu = cpu, .priority = 0 };   /* a load: never real-time */
	int err = peer_process_start(&placed, &rl->pid, loop_main, &a);
	if (err) {
		snprintf(why, why_len, "cannot start the load process on CPU %d: %s", cpu, strerror(err));
		rl->pid = 0;
		return -1;
	}
	uint64_t deadline = roundloop_now_ns() + (uint64_t)ready_timeout_ms * 1000000u;
	for (;;) {
		int state = atomic_load(&rl->sh->state);
		if (state == ROUNDLOOP_RUNNING)
			return 0;
		int status;
		bool gone = waitpid(rl->pid, &status, WNOHANG) == rl->pid;
		if (state == ROUNDLOOP_FAILED || gone) {
			if (state == ROUNDLOOP_FAILED)
				snprintf(why, why_len, "%s", rl->sh->why);
			else
				snprintf(why, why_len, "the load process ended before its first round (%s %d)",
					 WIFSIGNALED(status) ? "signal" : "exit",
					 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			if (!gone)
				peer_process_reap(rl->pid, PEER_REAP_TIMEOUT_MS);
			rl->pid = 0;
			return -1;
		}
		if (roundloop_now_ns() > deadline) {
			snprintf(why, why_len, "the first round did not begin within %u ms", ready_timeout_ms);
			roundloop_stop(rl, NULL, 0);
			return -1;
		}
		usleep(2000);
	}
}

int roundloop_stop(struct roundloop *rl, char *why, size_t why_len)
{
	if (rl->pid <= 0)
		return 0;
	kill(rl->pid, SIGTERM);
	int rc = peer_process_reap(rl->pid, PEER_REAP_TIMEOUT_MS + ROUNDLOOP_KILL_MS);
	rl->pid = 0;
	if (rc != 0 && why) {
		snprintf(why, why_len, "the load process ended with %s %d%s%s",
			 rc > 128 ? "signal" : "status", rc > 128 ? rc - 128 : rc,
			 rl->sh->why[0] ? ": " : "", rl->sh->why);
		return -1;
	}
	return rc == 0 ? 0 : -1;
}

double roundloop_report(const struct roundloop *rl, struct report *r, const char *round)
{
	const struct roundloop_shared *sh = rl->sh;
	uint64_t rounds = atomic_load(&sh->rounds);
	uint64_t end_ns = sh->end_ns ? sh->end_ns : roundloop_now_ns();
	double wall_s = sh->first_ns && end_ns > sh->first_ns ? (double)(end_ns - sh->first_ns) / 1e9 : 0.0;
	char key[REPORT_KEY_MAX], unit[REPORT_UNIT_MAX];
	snprintf(key, sizeof(key), "%ss_completed", round);
	snprintf(unit, sizeof(unit), "%ss", round);
	report_int(r, key, (int64_t)rounds, unit);
	if (rounds > 0) {
		snprintf(key, sizeof(key), "seconds_per_%s", round);
		report_real(r, key, (double)atomic_load(&sh->round_ns) / 1e9 / (double)rounds, "s");
	}
	report_real(r, "wall_s", wall_s, "s");
	report_real(r, "prepare_s", (double)sh->prepare_ns / 1e9, "s");
	return wall_s;
}

void roundloop_free(struct roundloop *rl)
{
	if (rl->sh)
		peer_shared_free(rl->sh, sizeof(*rl->sh));
	rl->sh = NULL;
}
