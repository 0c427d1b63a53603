/*
 * In-guest test of gapbench_hijack.
 *   hijack-test badioctl    every wrong call gets its errno
 *   hijack-test getppid     an attached child's getppid is emulated with the executive's
 *                           value, getuid blocked, getgid passed; the executive's own calls
 *                           are untouched; the child's exit detaches it
 *   hijack-test kill-held   a child killed while its call is held: registrations 0
 *   hijack-test hold        an executive with an attached child, until killed
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gapbench_hijack.h"
#include "kcheck.h"

#define MOD "gapbench_hijack"
#define EMULATED_PPID 424242

static void mask_set(struct gbhj_syscalls *m, unsigned nr)
{
	m->mask[nr / 64] |= 1ull << (nr % 64);
}

static int exec_open(const unsigned *nrs, unsigned n)
{
	struct gbhj_syscalls m = { { 0 } };
	int fd = open(GBHJ_DEV, O_RDWR);

	KCHECK(fd >= 0);
	for (unsigned i = 0; i < n; i++)
		mask_set(&m, nrs[i]);
	KCHECK(ioctl(fd, GBHJ_IOC_SET_SYSCALLS, &m) == 0);
	return fd;
}

/* A child that waits on `go` before doing `body`; returns its pid. */
static pid_t spawn(int go[2], int (*body)(void))
{
	pid_t pid;
	char c;

	KCHECK(pipe(go) == 0);
	pid = fork();
	KCHECK(pid >= 0);
	if (pid == 0) {
		/* the executive's file must not live on in the child: its release detaches */
		for (int fd = 3; fd < 64; fd++)
			if (fd != go[0])
				close(fd);
		if (read(go[0], &c, 1) != 1)
			_exit(9);
		_exit(body());
	}
	close(go[0]);
	return pid;
}

static void attach(int fd, pid_t pid)
{
	struct gbhj_attach a = { .pid = pid };

	KCHECK(ioctl(fd, GBHJ_IOC_ATTACH, &a) == 0);
}

static int sleeper(void)
{
	pause();
	return 0;
}

static void badioctl(void)
{
	struct gbhj_syscalls m = { { 0 } };
	struct gbhj_attach a = { 0 };
	struct gbhj_reply r = { 0 };
	struct gbhj_call c;
	struct gbhj_stats st;
	int fd = open(GBHJ_DEV, O_RDWR), go[2];
	pid_t child;

	KCHECK(fd >= 0);
	kexpect_errno("unknown command", ioctl(fd, _IO(GBHJ_IOC_MAGIC, 0x7f)), ENOTTY);
	kexpect_errno("SET_SYSCALLS with a wrong size", ioctl(fd, _IOW(GBHJ_IOC_MAGIC, 0x01, uint64_t), &m), ENOTTY);
	kexpect_errno("ATTACH with a wrong direction", ioctl(fd, _IOR(GBHJ_IOC_MAGIC, 0x02, struct gbhj_attach), &a), ENOTTY);
	kexpect_errno("STATS with a wrong size", ioctl(fd, _IOR(GBHJ_IOC_MAGIC, 0x04, uint32_t), &st), ENOTTY);
	kexpect_errno("SET_SYSCALLS from NULL", ioctl(fd, GBHJ_IOC_SET_SYSCALLS, NULL), EFAULT);
	kexpect_errno("ATTACH from NULL", ioctl(fd, GBHJ_IOC_ATTACH, NULL), EFAULT);
	kexpect_errno("DETACH from a bad pointer", ioctl(fd, GBHJ_IOC_DETACH, kbad_ptr(8)), EFAULT);
	kexpect_errno("STATS to NULL", ioctl(fd, GBHJ_IOC_STATS, NULL), EFAULT);
	mask_set(&m, GBHJ_NR_MAX - 1);
	kexpect_errno("SET_SYSCALLS number 511", ioctl(fd, GBHJ_IOC_SET_SYSCALLS, &m), EINVAL);
	a.pid = 0;
	kexpect_errno("ATTACH pid 0", ioctl(fd, GBHJ_IOC_ATTACH, &a), EINVAL);
	a.pid = -5;
	kexpect_errno("ATTACH pid -5", ioctl(fd, GBHJ_IOC_ATTACH, &a), EINVAL);
	a.pid = getpid();
	a.flags = 1;
	kexpect_errno("ATTACH flags 1", ioctl(fd, GBHJ_IOC_ATTACH, &a), EINVAL);
	a.flags = 0;
	kexpect_errno("ATTACH the executive itself", ioctl(fd, GBHJ_IOC_ATTACH, &a), EINVAL);
	a.pid = 4000000;
	kexpect_errno("ATTACH no such pid", ioctl(fd, GBHJ_IOC_ATTACH, &a), ESRCH);
	kexpect_errno("DETACH no such pid", ioctl(fd, GBHJ_IOC_DETACH, &a), ESRCH);
	child = spawn(go, sleeper);
	a.pid = child;
	kexpect_errno("DETACH not attached", ioctl(fd, GBHJ_IOC_DETACH, &a), ENOENT);
	KCHECK(ioctl(fd, GBHJ_IOC_ATTACH, &a) == 0);
	kexpect_errno("ATTACH twice", ioctl(fd, GBHJ_IOC_ATTACH, &a), EBUSY);
	KCHECK(kregistrations(MOD) == 1);
	kexpect_errno("read into a short buffer", read(fd, &c, sizeof(c) - 1), EINVAL);
	KCHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	kexpect_errno("read nothing held, O_NONBLOCK", read(fd, &c, sizeof(c)), EAGAIN);
	kexpect_errno("reply of a wrong size", write(fd, &r, sizeof(r) - 1), EINVAL);
	kexpect_errno("reply from a bad pointer", write(fd, kbad_ptr(8), sizeof(r)), EFAULT);
	r.action = 3;
	kexpect_errno("reply action 3", write(fd, &r, sizeof(r)), EINVAL);
	r.action = GBHJ_BLOCK;
	r.value = 5000;
	kexpect_errno("reply BLOCK errno 5000", write(fd, &r, sizeof(r)), EINVAL);
	r.value = 0;
	r.pad = 1;
	kexpect_errno("reply pad 1", write(fd, &r, sizeof(r)), EINVAL);
	r.pad = 0;
	r.id = 99;
	kexpect_errno("reply to no held call", write(fd, &r, sizeof(r)), ENOENT);
	KCHECK(ioctl(fd, GBHJ_IOC_STATS, &st) == 0 && st.targets == 1 && st.held == 0);
	KCHECK(ioctl(fd, GBHJ_IOC_DETACH, &a) == 0);
	KCHECK(kregistrations(MOD) == 0);
	KCHECK(ioctl(fd, GBHJ_IOC_ATTACH, &a) == 0);
	close(fd);
	KCHECK(kregistrations(MOD) == 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("badioctl: all rows ok, registrations 0 after close\n");
}

#define CALLS 1000

static int getppid_child(void)
{
	for (int i = 0; i < CALLS; i++)
		if (syscall(SYS_getppid, 11, 22, 33, 44, 55, 66) != EMULATED_PPID)
			return 1;
	errno = 0;
	if (syscall(SYS_getuid) != -1 || errno != EACCES)
		return 2;
	if (syscall(SYS_getgid) != (long)getegid())   /* getegid is not diverted */
		return 3;
	return 0;
}

static void getppid_case(void)
{
	static const unsigned nrs[] = { SYS_getppid, SYS_getuid, SYS_getgid };
	int fd = exec_open(nrs, 3), go[2], status = -1;
	struct gbhj_stats st;
	struct gbhj_call c;
	long seen[3] = { 0 };
	pid_t child = spawn(go, getppid_child), exec_ppid = getppid();

	attach(fd, child);
	KCHECK(write(go[1], "g", 1) == 1);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct gbhj_reply r = { 0 };
		int n = poll(&p, 1, 200);

		KCHECK(n >= 0);
		if (n == 0) {
			if (waitpid(child, &status, WNOHANG) == child)
				break;
			continue;
		}
		KCHECK(read(fd, &c, sizeof(c)) == sizeof(c));
		KCHECK(c.pid == child && c.tid == child);
		r.id = c.id;
		if (c.nr == SYS_getppid) {
			KCHECK(c.args[0] == 11 && c.args[5] == 66);
			r.action = GBHJ_EMULATE;
			r.value = EMULATED_PPID;
			seen[0]++;
		} else if (c.nr == SYS_getuid) {
			r.action = GBHJ_BLOCK;
			r.value = EACCES;
			seen[1]++;
		} else {
			KCHECK(c.nr == SYS_getgid);
			r.action = GBHJ_PASS;
			seen[2]++;
		}
		KCHECK(write(fd, &r, sizeof(r)) == sizeof(r));
	}
	KCHECK(WIFEXITED(status));
	if (WEXITSTATUS(status))
		fprintf(stderr, "hijack-test: child status %d\n", WEXITSTATUS(status));
	KCHECK(WEXITSTATUS(status) == 0);
	KCHECK(seen[0] == CALLS && seen[1] == 1 && seen[2] == 1);
	KCHECK(getppid() == exec_ppid);   /* the executive's own calls are not diverted */
	KCHECK(ioctl(fd, GBHJ_IOC_STATS, &st) == 0);
	KCHECK(st.held == CALLS + 2 && st.emulated == CALLS && st.blocked == 1 && st.passed == 1);
	KCHECK(st.targets == 0 && kregistrations(MOD) == 0);   /* its exit detached it */
	close(fd);
	printf("getppid: %d getppid calls emulated with the executive's value %d, getuid blocked (EACCES), "
	       "getgid passed; the child's exit detached it; registrations 0\n", CALLS, EMULATED_PPID);
}

static int held_child(void)
{
	syscall(SYS_getppid);
	return 0;
}

static void kill_held(void)
{
	static const unsigned nrs[] = { SYS_getppid };
	int fd = exec_open(nrs, 1), go[2], status;
	struct gbhj_call c;
	struct gbhj_stats st;
	pid_t child = spawn(go, held_child);

	attach(fd, child);
	KCHECK(write(go[1], "g", 1) == 1);
	KCHECK(read(fd, &c, sizeof(c)) == sizeof(c) && c.nr == SYS_getppid);
	KCHECK(kregistrations(MOD) == 1);
	KCHECK(kill(child, SIGKILL) == 0);
	KCHECK(waitpid(child, &status, 0) == child && WIFSIGNALED(status));
	KCHECK(ioctl(fd, GBHJ_IOC_STATS, &st) == 0 && st.interrupted == 1 && st.targets == 0);
	KCHECK(kregistrations(MOD) == 0);
	close(fd);
	printf("kill-held: a child killed while its getppid was held: registrations 0\n");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "badioctl")) {
		badioctl();
	} else if (argc >= 2 && !strcmp(argv[1], "getppid")) {
		getppid_case();
	} else if (argc >= 2 && !strcmp(argv[1], "kill-held")) {
		kill_held();
	} else if (argc >= 2 && !strcmp(argv[1], "hold")) {
		static const unsigned nrs[] = { SYS_getppid };
		int fd = exec_open(nrs, 1), go[2];

		attach(fd, spawn(go, sleeper));
		printf("holding an executive with an attached child\n");
		pause();
	} else {
		fprintf(stderr, "usage: hijack-test badioctl|getppid|kill-held|hold\n");
		return 2;
	}
	return 0;
}
