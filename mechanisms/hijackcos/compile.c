/*
 * Table I's last rows: a compile with and without system-call
 * interposition (the paper: a Linux kernel compile, 351.96 s vanilla,
 * 352.25 s with Hijack's hardware entry-point interposition loaded: 0.29 s,
 * 0.08%). Here the build is the generated C project of loadgen/compile
 * (`make -s -j jobs CC=gcc` from clean, on the measuring CPU, SCHED_OTHER),
 * and the interposition is seccomp on every process of the build (a filter
 * installed before make's exec is inherited by everything it starts):
 *
 *   compile-bpf-pass     a BPF filter every system call runs through and
 *                        passes (it reads an argument, so the kernel's
 *                        constant-action cache cannot skip it): the kernel's
 *                        entry hook, the closest stock-Linux match for
 *                        Hijack's hardware entry-point interposition
 *   compile-notify-pass  every system call goes to a user-level supervisor
 *                        (seccomp user notification) that lets it continue:
 *                        an interposition path through user level
 *
 * Builds alternate, native then interposed, in the same run: samples are the
 * interposed builds' wall times (ns); the native builds' mean and the
 * difference are facts beside the paper's 0.29 s of 351.96 s.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../loadgen/compile/project.h"
#include "aos_host.h"

#define COMPILE_SEED 2
#define REPORT_FD 1000           /* the child tells the listener's number on this fd: its one unfiltered write */
#define CHILD_REPORT_MS 5000
#define PAPER_VANILLA_S 351.96
#define PAPER_INTERPOSED_S 352.25

enum interpose { INTERPOSE_NONE, INTERPOSE_BPF, INTERPOSE_NOTIFY };

const struct opt_desc hjc_compile_opts[] = {
	OPT_INT_FIELD(struct hjc_cfg_all, units, "8", 1, PROJECT_UNITS_MAX, "files",
		      "translation units of the generated project (loadgen/compile)"),
	OPT_INT_FIELD(struct hjc_cfg_all, jobs, "1", 1, PROJECT_JOBS_MAX, "", "make -j"),
	OPT_TABLE_END,
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Every system call passes the filter; notify: to the supervisor, but the one report write. */
static int install_filter(enum interpose how)
{
	const unsigned pass = how == INTERPOSE_NOTIFY ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ALLOW;
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),   /* another ABI: not ours */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, REPORT_FD, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, pass),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	unsigned flags = how == INTERPOSE_NOTIFY ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

/* The build's child: never returns. report: the pipe to the parent (REPORT_FD after dup2). */
static void build_child(char *const argv[], const char *cwd, int cpu, int out_fd, int keep_fd, int report,
			enum interpose how)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct sched_param sp = { .sched_priority = 0 };
	int err = sched_setscheduler(0, SCHED_OTHER, &sp) != 0 ? errno : 0;
	if (!err && cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		err = sched_setaffinity(0, sizeof(set), &set) != 0 ? errno : 0;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!err && (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0 ||
		     dup3(report, REPORT_FD, O_CLOEXEC) < 0))
		err = errno;
	if (!err && keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) != 0)
		err = errno;
	if (!err && chdir(cwd) != 0)
		err = errno;
	int listener = -1;
	if (!err && how != INTERPOSE_NONE && (listener = install_filter(how)) < 0)
		err = errno;
	int32_t msg[2] = { err, listener };
	ssize_t w = write(REPORT_FD, msg, sizeof(msg));   /* the filter lets this one through */
	if (err || w != (ssize_t)sizeof(msg))
		_exit(127);
	execvp(argv[0], argv);   /* notify: the supervisor lets it (and all that follows) continue */
	_exit(126);
}

struct supervisor {
	int listener;
	pthread_t thread;
	_Atomic uint64_t notified;
	_Atomic int failed;
};

static void *supervisor_main(void *arg)
{
	struct supervisor *sv = arg;
	struct seccomp_notif req;
	struct seccomp_notif_resp resp;
	struct pollfd p = { .fd = sv->listener, .events = POLLIN };
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			atomic_store(&sv->failed, errno);
			return NULL;
		}
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			return NULL;   /* every process of the build is gone */
		memset(&req, 0, sizeof(req));
		if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			atomic_store(&sv->failed, errno);
			return NULL;
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		if (ioctl(sv->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) != 0 && errno != ENOENT) {
			atomic_store(&sv->failed, errno);
			return NULL;
		}
		atomic_fetch_add_explicit(&sv->notified, 1, memory_order_relaxed);
	}
}

/* Fetch the child's listener (pidfd_getfd) and start the supervisor on it. */
static int supervise(struct mech_ctx *ctx, struct supervisor *sv, pid_t pid, int child_fd)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return mech_why_errno(ctx, BENCH_SKIP, "pidfd_open (Linux >= 5.3 needed for the notify pass)");
	sv->listener = (int)syscall(SYS_pidfd_getfd, pidfd, child_fd, 0);
	int saved = errno;
	close(pidfd);
	if (sv->listener < 0) {
		errno = saved;
		return mech_why_errno(ctx, BENCH_SKIP, "pidfd_getfd of the build's seccomp listener (Linux >= 5.6)");
	}
	atomic_store(&sv->notified, 0);
	atomic_store(&sv->failed, 0);
	int err = pthread_create(&sv->thread, NULL, supervisor_main, sv);
	if (err) {
		close(sv->listener);
		return mech_why(ctx, BENCH_FAIL, "supervisor thread: %s", strerror(err));
	}
	return BENCH_OK;
}

static struct hjc_compile_state *compile_priv(struct mech_ctx *ctx)
{
	return &((struct hjc_priv_all *)ctx->priv)->compile;
}

/* One clean build; *ns its wall time, *notified the supervisor's count. */
static int build_once(struct mech_ctx *ctx, enum interpose how, uint64_t *ns, uint64_t *notified)
{
	struct hjc_compile_state *cs = compile_priv(ctx);
	char *argv[] = { "make", "-s", "-j", cs->dirs.jobs_arg, "CC=gcc", NULL };
	if (scratch_rm_tree(cs->dirs.obj) != 0 || mkdir(cs->dirs.obj, 0755) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "cannot empty %s", cs->dirs.obj);
	int out_fd = open(cs->dirs.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rp[2];
	if (out_fd < 0 || pipe2(rp, O_CLOEXEC) != 0)
		return mech_why_errno(ctx, BENCH_FAIL, "build log or pipe");
	uint64_t t0 = mono_ns();
	pid_t pid = fork();
	if (pid == 0)
		build_child(argv, cs->dirs.proj, ctx->cpu, out_fd, cs->dirs.sc.keep_fd, rp[1], how);
	close(rp[1]);
	close(out_fd);
	if (pid < 0) {
		close(rp[0]);
		return mech_why_errno(ctx, BENCH_FAIL, "fork for make");
	}
	int32_t msg[2] = { EIO, -1 };
	struct pollfd p = { .fd = rp[0], .events = POLLIN };
	ssize_t n = poll(&p, 1, CHILD_REPORT_MS) == 1 ? read(rp[0], msg, sizeof(msg)) : -1;
	close(rp[0]);
	int rc = BENCH_OK;
	struct supervisor sv = { .listener = -1 };
	bool supervised = false;
	if (n != (ssize_t)sizeof(msg) || msg[0] != 0) {
		errno = n == (ssize_t)sizeof(msg) ? msg[0] : EIO;
		rc = mech_why_errno(ctx, how == INTERPOSE_NONE ? BENCH_FAIL : BENCH_SKIP,
				    "the build's child could not %s", how == INTERPOSE_NONE ? "start" : "install its seccomp filter");
	} else if (how == INTERPOSE_NOTIFY) {
		rc = supervise(ctx, &sv, pid, msg[1]);
		supervised = rc == BENCH_OK;
	}
	if (rc != BENCH_OK)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	*ns = mono_ns() - t0;
	if (supervised) {
		pthread_join(sv.thread, NULL);   /* ends when the last process of the build is gone */
		close(sv.listener);
		*notified = atomic_load(&sv.notified);
		if (atomic_load(&sv.failed)) {
			errno = atomic_load(&sv.failed);
			return mech_why_errno(ctx, BENCH_FAIL, "the seccomp supervisor");
		}
	}
	if (rc != BENCH_OK)
		return rc;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[256];
		scratch_describe_exit(status, cs->dirs.log, why, sizeof(why));
		return mech_why(ctx, BENCH_FAIL, "make%s: %s", how == INTERPOSE_NONE ? "" : " (interposed)", why);
	}
	return BENCH_OK;
}

int hjc_compile_probe(struct mech_ctx *ctx)
{
	char path[512];
	if (!scratch_find_program("gcc", path, sizeof(path)))
		return mech_why(ctx, BENCH_SKIP, "gcc is not in PATH (Debian: gcc)");
	if (!scratch_find_program("make", path, sizeof(path)))
		return mech_why(ctx, BENCH_SKIP, "make is not in PATH (Debian: make)");
	return BENCH_OK;
}

int hjc_compile_setup(struct mech_ctx *ctx)
{
	const struct hjc_cfg_all *cfg = ctx->cfg;
	struct hjc_compile_state *cs = compile_priv(ctx);
	const char *bad = project_check(cfg->units, cfg->jobs);
	if (bad)
		return mech_why(ctx, BENCH_FAIL, "%s", bad);
	char why[256];
	uint64_t bytes = 0;
	if (project_dirs_init(&cs->dirs, "hjcos-compile", cfg->jobs, why, sizeof(why)) != 0 ||
	    project_dirs_write(&cs->dirs, COMPILE_SEED, (int)cfg->units, &bytes, why, sizeof(why)) != 0)
		return mech_why(ctx, BENCH_FAIL, "%s", why);
	report_int(ctx->report, "units", cfg->units, "files");
	report_real(ctx->report, "source_kib", (double)bytes / 1024.0, "KiB");
	report_kv(ctx->report, "build", "make -s -j %lld CC=gcc from clean, on CPU %d, SCHED_OTHER", (long long)cfg->jobs,
		  ctx->cpu);
	return BENCH_OK;
}

static int compile_measure(struct mech_ctx *ctx, struct samples *s, enum interpose how)
{
	uint64_t native_sum = 0, inter_sum = 0, builds = 0, notified = 0, n_inter = 0;
	while (!samples_full(s)) {
		uint64_t native_ns, inter_ns, nf = 0;
		int rc = build_once(ctx, INTERPOSE_NONE, &native_ns, &nf);
		if (rc == BENCH_OK)
			rc = build_once(ctx, how, &inter_ns, &nf);
		if (rc != BENCH_OK)
			return rc;
		builds++;
		notified += nf;
		samples_add(s, inter_ns);
		if (s->warmup_discarded >= s->warmup_target && s->count > 0) {
			native_sum += native_ns;
			inter_sum += inter_ns;
			n_inter++;
		}
	}
	report_int(ctx->report, "build_pairs", (int64_t)builds, "");
	if (how == INTERPOSE_NOTIFY)
		report_real(ctx->report, "syscalls_per_build", builds ? (double)notified / (double)builds : 0, "");
	if (n_inter) {
		double native_s = (double)native_sum / (double)n_inter * 1e-9;
		double inter_s = (double)inter_sum / (double)n_inter * 1e-9;
		report_real(ctx->report, "native_mean_s", native_s, "s");
		report_real(ctx->report, "interposed_mean_s", inter_s, "s");
		report_real(ctx->report, "difference_s", inter_s - native_s, "s");
		report_real(ctx->report, "overhead_ratio", native_s > 0 ? (inter_s - native_s) / native_s : 0, "");
		report_real(ctx->report, "paper_overhead_ratio", (PAPER_INTERPOSED_S - PAPER_VANILLA_S) / PAPER_VANILLA_S,
			    "");
	}
	if (how == INTERPOSE_NOTIFY && builds && notified == 0)
		return mech_why(ctx, BENCH_FAIL, "the supervisor saw no system call of the build");
	return BENCH_OK;
}

int hjc_compile_bpf_measure(struct mech_ctx *ctx, struct samples *s)
{
	return compile_measure(ctx, s, INTERPOSE_BPF);
}

int hjc_compile_notify_measure(struct mech_ctx *ctx, struct samples *s)
{
	return compile_measure(ctx, s, INTERPOSE_NOTIFY);
}

void hjc_compile_teardown(struct mech_ctx *ctx)
{
	scratch_remove(&compile_priv(ctx)->dirs.sc);
}
