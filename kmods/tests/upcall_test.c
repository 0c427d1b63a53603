/*
 * In-guest test of gapbench_upcall.
 *   upcall-test badioctl   every wrong call gets its errno
 *   upcall-test sync [N]   N ioctl upcalls: the handler runs with %rsp at the top of
 *                          the sandbox stack, nothing written there (no signal frame),
 *                          and the caller resumes intact
 *   upcall-test timer      timer upcalls interrupt a loop that makes system calls, then a loop
 *                          that holds a known 64-bit value in every general register (each with
 *                          bit 31 set and upper bits that differ from its sign extension), and
 *                          resume both intact: an interrupted %rax handed back through the ioctl's
 *                          32-bit return value (the old module) breaks the second loop at once
 *   upcall-test hold       registered with a running timer until killed (the SIGKILL test)
 *   upcall-test churn N    N times: register, a 10 us timer, system calls, close: no upcall
 *                          after the close (its RETURN would fail), registrations 0 at once
 *   upcall-test churn-unload  the same until the device is gone (the test rmmods meanwhile)
 * No signal handler is installed: a signal would end the process, not reach the handler.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include "gapbench_upcall.h"
#include "kcheck.h"

#define MOD "gapbench_upcall"
#define STACK_BYTES (64u << 10)
#define CANARY 0xA5

/* What the handler saw; the handler finds it through these globals (a test program). */
static int up_fd;
static unsigned char *up_stack;
static volatile uint64_t up_entries, up_bad_rsp, up_last_arg, up_last_src, up_last_cookie;
/* upcalls whose handler ran while regs_loop() was the interrupted code */
static volatile uint64_t up_in_regs_loop;
static volatile int rl_active;

void upcall_entry(void);
void upcall_c(uint64_t arg, uint64_t ktsc, uint64_t src, uint64_t cookie, uint64_t entry_rsp, uint64_t entry_tsc);

/* The handler's first instructions: record %rsp and the TSC, then call C on an aligned stack. */
__asm__(".text\n.globl upcall_entry\n.type upcall_entry,@function\nupcall_entry:\n"
	"\tmov %rsp, %r8\n"
	"\tmov %rdx, %r11\n"
	"\trdtsc\n"
	"\tshl $32, %rdx\n"
	"\tor %rax, %rdx\n"
	"\tmov %rdx, %r9\n"
	"\tmov %r11, %rdx\n"
	"\tand $-16, %rsp\n"
	"\tcall upcall_c\n"
	"\tud2\n"
	".size upcall_entry, .-upcall_entry\n");

/*
 * regs_loop(): rl_left iterations of comparing the 15 general registers but %rsp with
 * rl_expect[] (rax rbx rcx rdx rsi rdi rbp r8..r15); a mismatch counts in rl_bad, leaves
 * the registers it found in rl_seen[] and reloads them all. Globals (not static): the asm
 * names them.
 */
#define RL_NREGS 15
uint64_t rl_expect[RL_NREGS], rl_seen[RL_NREGS];
volatile uint64_t rl_left, rl_bad;
static const char *const rl_names[RL_NREGS] = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
						"r9", "r10", "r11", "r12", "r13", "r14", "r15" };
void regs_loop(void);

#define RL_EACH(op) \
	op("rax", "0") op("rbx", "8") op("rcx", "16") op("rdx", "24") op("rsi", "32") op("rdi", "40") \
	op("rbp", "48") op("r8", "56") op("r9", "64") op("r10", "72") op("r11", "80") op("r12", "88") \
	op("r13", "96") op("r14", "104") op("r15", "112")
#define RL_LOAD(r, off) "\tmov rl_expect+" off "(%rip), %" r "\n"
#define RL_CMP(r, off) "\tcmp rl_expect+" off "(%rip), %" r "\n\tjne 3f\n"
#define RL_SAVE(r, off) "\tmov %" r ", rl_seen+" off "(%rip)\n"
__asm__(".text\n.globl regs_loop\n.type regs_loop,@function\nregs_loop:\n"
	"\tpush %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n"
	"1:\n" RL_EACH(RL_LOAD)
	"2:\n" RL_EACH(RL_CMP)
	"\tdecq rl_left(%rip)\n"
	"\tjnz 2b\n"
	"\tjmp 4f\n"
	"3:\n" RL_EACH(RL_SAVE)
	"\tincq rl_bad(%rip)\n"
	"\tdecq rl_left(%rip)\n"
	"\tjnz 1b\n"
	"4:\n"
	"\tpop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n"
	"\tret\n"
	".size regs_loop, .-regs_loop\n");

void upcall_c(uint64_t arg, uint64_t ktsc, uint64_t src, uint64_t cookie, uint64_t entry_rsp, uint64_t entry_tsc)
{
	(void)ktsc;
	(void)entry_tsc;
	if (entry_rsp != (uint64_t)(uintptr_t)(up_stack + STACK_BYTES - 8))
		up_bad_rsp++;
	up_last_arg = arg;
	up_last_src = src;
	up_last_cookie = cookie;
	up_entries++;
	if (rl_active)
		up_in_regs_loop++;
	ioctl(up_fd, GBUP_IOC_RETURN);
	/* only on failure */
	fprintf(stderr, "upcall-test: GBUP_IOC_RETURN returned: %s\n", strerror(errno));
	_exit(3);
}

static int up_open_registered(uint64_t cookie)
{
	struct gbup_register r;
	int fd = open(GBUP_DEV, O_RDWR);

	KCHECK(fd >= 0);
	up_stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KCHECK(up_stack != MAP_FAILED);
	memset(up_stack, CANARY, STACK_BYTES);
	r = (struct gbup_register){ .handler = (uintptr_t)upcall_entry, .stack_base = (uintptr_t)up_stack,
				    .stack_size = STACK_BYTES, .cookie = cookie };
	KCHECK(ioctl(fd, GBUP_IOC_REGISTER, &r) == 0);
	up_fd = fd;
	return fd;
}

static void *other_thread_trigger(void *arg)
{
	uint64_t v = 1;

	kexpect_errno("TRIGGER from another thread", ioctl(*(int *)arg, GBUP_IOC_TRIGGER, &v), EPERM);
	return NULL;
}

static void badioctl(void)
{
	struct gbup_register r;
	struct gbup_timer t;
	struct gbup_stats st;
	uint64_t v = 0;
	unsigned char *stack;
	pthread_t th;
	int fd = open(GBUP_DEV, O_RDWR);

	KCHECK(fd >= 0);
	stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KCHECK(stack != MAP_FAILED);
	r = (struct gbup_register){ .handler = (uintptr_t)upcall_entry, .stack_base = (uintptr_t)stack,
				    .stack_size = STACK_BYTES };
	kexpect_errno("unknown command", ioctl(fd, _IO(GBUP_IOC_MAGIC, 0x7f)), ENOTTY);
	kexpect_errno("REGISTER with a wrong size", ioctl(fd, _IOW(GBUP_IOC_MAGIC, 0x01, uint64_t), &r), ENOTTY);
	kexpect_errno("REGISTER with a wrong direction", ioctl(fd, _IOR(GBUP_IOC_MAGIC, 0x01, struct gbup_register), &r), ENOTTY);
	kexpect_errno("STATS with a wrong direction", ioctl(fd, _IOW(GBUP_IOC_MAGIC, 0x06, struct gbup_stats), &st), ENOTTY);
	kexpect_errno("RETURN with a size", ioctl(fd, _IOW(GBUP_IOC_MAGIC, 0x04, uint64_t), &v), ENOTTY);
	kexpect_errno("REGISTER from NULL", ioctl(fd, GBUP_IOC_REGISTER, NULL), EFAULT);
	kexpect_errno("TIMER from NULL", ioctl(fd, GBUP_IOC_TIMER, NULL), EFAULT);
	kexpect_errno("TRIGGER from NULL", ioctl(fd, GBUP_IOC_TRIGGER, NULL), EFAULT);
	kexpect_errno("STATS to a kernel address", ioctl(fd, GBUP_IOC_STATS, (void *)0xffffffff81000000ul), EFAULT);
	r.flags = 1;
	kexpect_errno("REGISTER flags 1", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.flags = 0;
	r.handler = 0;
	kexpect_errno("REGISTER handler 0", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.handler = 0xffffffff81000000ul;
	kexpect_errno("REGISTER handler in the kernel", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.handler = (uintptr_t)upcall_entry;
	r.stack_base = (uintptr_t)stack + 8;
	kexpect_errno("REGISTER stack misaligned", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.stack_base = (uintptr_t)stack;
	r.stack_size = 256;
	kexpect_errno("REGISTER stack too small", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.stack_size = 128u << 20;
	kexpect_errno("REGISTER stack too large", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.stack_base = 0xffffffff81000000ul;
	r.stack_size = STACK_BYTES;
	kexpect_errno("REGISTER stack in the kernel", ioctl(fd, GBUP_IOC_REGISTER, &r), EINVAL);
	r.stack_base = (uintptr_t)stack;
	kexpect_errno("TRIGGER unregistered", ioctl(fd, GBUP_IOC_TRIGGER, &v), ENOENT);
	kexpect_errno("RETURN unregistered", ioctl(fd, GBUP_IOC_RETURN), ENOENT);
	kexpect_errno("UNREGISTER unregistered", ioctl(fd, GBUP_IOC_UNREGISTER), ENOENT);
	t = (struct gbup_timer){ .period_ns = 1000000 };
	kexpect_errno("TIMER unregistered", ioctl(fd, GBUP_IOC_TIMER, &t), ENOENT);
	KCHECK(ioctl(fd, GBUP_IOC_REGISTER, &r) == 0);
	KCHECK(kregistrations(MOD) == 1);
	kexpect_errno("REGISTER twice", ioctl(fd, GBUP_IOC_REGISTER, &r), EBUSY);
	kexpect_errno("RETURN outside an upcall", ioctl(fd, GBUP_IOC_RETURN), EINVAL);
	t = (struct gbup_timer){ .period_ns = 5 };
	kexpect_errno("TIMER period 5 ns", ioctl(fd, GBUP_IOC_TIMER, &t), EINVAL);
	t = (struct gbup_timer){ .period_ns = 0, .count = 3 };
	kexpect_errno("TIMER count without a period", ioctl(fd, GBUP_IOC_TIMER, &t), EINVAL);
	KCHECK(pthread_create(&th, NULL, other_thread_trigger, &fd) == 0);
	KCHECK(pthread_join(th, NULL) == 0);
	KCHECK(ioctl(fd, GBUP_IOC_STATS, &st) == 0 && st.delivered == 0);
	KCHECK(ioctl(fd, GBUP_IOC_UNREGISTER) == 0);
	KCHECK(kregistrations(MOD) == 0);
	KCHECK(ioctl(fd, GBUP_IOC_REGISTER, &r) == 0);
	close(fd);
	KCHECK(kregistrations(MOD) == 0);
	printf("badioctl: all rows ok, registrations 0 after close\n");
}

static void sync_upcalls(long n)
{
	struct gbup_stats st;
	int fd = up_open_registered(0xC00C1E);
	volatile uint64_t keep = 0x1234567890abcdefull;   /* on the caller's stack, across upcalls */

	for (long i = 0; i < n; i++) {
		uint64_t arg = (uint64_t)i + 1000;
		uint64_t before = up_entries;

		KCHECK(ioctl(fd, GBUP_IOC_TRIGGER, &arg) == 0);
		KCHECK(up_entries == before + 1);
		KCHECK(up_last_arg == arg && up_last_src == GBUP_SRC_IOCTL && up_last_cookie == 0xC00C1E);
	}
	KCHECK(keep == 0x1234567890abcdefull);
	KCHECK(up_bad_rsp == 0);
	/* the handler's frames are below top-8; the 8 bytes above its entry %rsp were never written:
	   a signal frame (ucontext, siginfo, return address) would sit exactly there */
	for (unsigned i = STACK_BYTES - 8; i < STACK_BYTES; i++)
		KCHECK(up_stack[i] == CANARY);
	KCHECK(ioctl(fd, GBUP_IOC_STATS, &st) == 0);
	KCHECK(st.delivered == (uint64_t)n && st.returned == (uint64_t)n);
	close(fd);
	KCHECK(kregistrations(MOD) == 0);
	printf("sync: %ld upcalls, each entered with %%rsp = sandbox top - 8, the top of the sandbox stack "
	       "untouched (no signal frame), caller resumed intact; registrations 0\n", n);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void timer_upcalls(void)
{
	struct gbup_timer t = { .period_ns = 2000000, .count = 20 };
	struct gbup_stats st;
	int fd = up_open_registered(7);
	uint64_t a = 0, b = 0, bad = 0;
	double end = now_s() + 60;

	KCHECK(ioctl(fd, GBUP_IOC_TIMER, &t) == 0);
	/* a loop whose registers hold an invariant: a clobbered register breaks it */
	do {
		for (int i = 0; i < 1000; i++) {
			a += 1;
			b += 3;
			bad += (b != 3 * a);
		}
		KCHECK(ioctl(fd, GBUP_IOC_STATS, &st) == 0);
	} while ((st.timer_fired < t.count || st.delivered + st.missed < st.timer_fired) && now_s() < end);
	printf("timer: fired %llu, delivered %llu, returned %llu, missed %llu; loop ran %llu times\n",
	       (unsigned long long)st.timer_fired, (unsigned long long)st.delivered,
	       (unsigned long long)st.returned, (unsigned long long)st.missed, (unsigned long long)a);
	KCHECK(up_entries >= 1);
	KCHECK(up_last_src == GBUP_SRC_TIMER && up_last_cookie == 7);
	KCHECK(bad == 0 && b == 3 * a);
	KCHECK(up_bad_rsp == 0);
	KCHECK(st.delivered == up_entries && st.returned == st.delivered);
	KCHECK(st.delivered + st.missed == st.timer_fired);
	close(fd);
	KCHECK(kregistrations(MOD) == 0);
	printf("timer: asynchronous upcalls interrupted the loop and resumed it intact; registrations 0\n");
}

/* True while the timer has expiries to come or undelivered ones pending. */
static bool timer_busy(int fd, const struct gbup_timer *t, struct gbup_stats *st)
{
	KCHECK(ioctl(fd, GBUP_IOC_STATS, st) == 0);
	return st->timer_fired < t->count || st->delivered + st->missed < st->timer_fired;
}

/* Timer upcalls that interrupt user code holding 64-bit values in every general register. */
static void timer_regs(void)
{
	struct gbup_timer t = { .period_ns = 2000000, .count = 20 };
	struct gbup_stats st;
	int fd = up_open_registered(9);
	double end = now_s() + 60;

	for (int i = 0; i < RL_NREGS; i++)
		rl_expect[i] = 0x0101010180000001ull * (uint64_t)(i + 1) | 0x80000000ull;
	up_entries = 0;
	KCHECK(ioctl(fd, GBUP_IOC_TIMER, &t) == 0);
	do {
		rl_left = 200000;
		rl_active = 1;
		regs_loop();
		rl_active = 0;
	} while (timer_busy(fd, &t, &st) && now_s() < end);
	printf("timer regs: fired %llu, delivered %llu (%llu in the register loop), returned %llu, "
	       "missed %llu; %llu register mismatches\n", (unsigned long long)st.timer_fired,
	       (unsigned long long)st.delivered, (unsigned long long)up_in_regs_loop,
	       (unsigned long long)st.returned, (unsigned long long)st.missed, (unsigned long long)rl_bad);
	if (rl_bad)
		for (int i = 0; i < RL_NREGS; i++)
			printf("  %-3s expected %016llx found %016llx%s\n", rl_names[i],
			       (unsigned long long)rl_expect[i], (unsigned long long)rl_seen[i],
			       rl_seen[i] != rl_expect[i] ? "  <- corrupted" : "");
	KCHECK(up_in_regs_loop >= 1);
	KCHECK(rl_bad == 0);
	KCHECK(up_bad_rsp == 0 && up_last_cookie == 9);
	KCHECK(st.delivered == up_entries && st.returned == st.delivered);
	KCHECK(st.delivered + st.missed == st.timer_fired);
	close(fd);
	KCHECK(kregistrations(MOD) == 0);
	printf("timer regs: upcalls that interrupted the register loop resumed it with all 15 registers "
	       "intact; registrations 0\n");
}

/*
 * One registration with a 10 us timer, `calls` system calls, then close: a timer
 * upcall still queued at the close must be dropped (delivered after it, its
 * GBUP_IOC_RETURN on the closed file fails and the handler exits 3). Returns 0,
 * or -1 when the device cannot be opened (errno set).
 */
static int churn_once(long calls)
{
	struct gbup_timer t = { .period_ns = GBUP_TIMER_MIN_NS };
	struct gbup_register r;
	struct gbup_stats st;
	int fd = open(GBUP_DEV, O_RDWR);

	if (fd < 0)
		return -1;
	r = (struct gbup_register){ .handler = (uintptr_t)upcall_entry, .stack_base = (uintptr_t)up_stack,
				    .stack_size = STACK_BYTES, .cookie = 3 };
	KCHECK(ioctl(fd, GBUP_IOC_REGISTER, &r) == 0);
	up_fd = fd;
	KCHECK(ioctl(fd, GBUP_IOC_TIMER, &t) == 0);
	for (long i = 0; i < calls; i++)
		KCHECK(ioctl(fd, GBUP_IOC_STATS, &st) == 0);
	close(fd);
	return 0;
}

static void churn(long rounds, bool until_gone)
{
	long n = 0;

	up_stack = mmap(NULL, STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	KCHECK(up_stack != MAP_FAILED);
	for (; until_gone || n < rounds; n++) {
		if (churn_once(200) < 0) {
			/* the module went away under us (ENODEV while it unloads) */
			KCHECK(until_gone && (errno == ENOENT || errno == ENODEV || errno == ENXIO));
			break;
		}
		KCHECK(kregistrations(MOD) <= 0);    /* -1: the module is unloading */
		if (until_gone && n == 0)
			printf("churn: running\n");  /* the test starts its rmmods now */
		if (until_gone)
			usleep(300);                 /* a window for rmmod, right after a close */
	}
	KCHECK(n >= 1 && (until_gone || up_entries >= 1));   /* the timer did interrupt the calls */
	printf("churn: %ld registrations with a 10 us timer closed, %llu upcalls delivered, none after "
	       "a close; registrations 0 after each%s\n", n, (unsigned long long)up_entries,
	       until_gone ? "; stopped when the device went away" : "");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "badioctl")) {
		badioctl();
	} else if (argc >= 2 && !strcmp(argv[1], "sync")) {
		sync_upcalls(argc > 2 ? atol(argv[2]) : 1000);
	} else if (argc >= 2 && !strcmp(argv[1], "timer")) {
		timer_upcalls();
		timer_regs();
	} else if (argc >= 2 && !strcmp(argv[1], "churn")) {
		churn(argc > 2 ? atol(argv[2]) : 200, false);
	} else if (argc >= 2 && !strcmp(argv[1], "churn-unload")) {
		churn(0, true);
	} else if (argc >= 2 && !strcmp(argv[1], "hold")) {
		struct gbup_timer t = { .period_ns = 10000000 };
		int fd = up_open_registered(1);

		printf("holding a registration with a 10 ms timer\n");
		KCHECK(ioctl(fd, GBUP_IOC_TIMER, &t) == 0);
		for (;;)
			;
	} else {
		fprintf(stderr, "usage: upcall-test badioctl|sync [N]|timer|hold|churn [N]|churn-unload\n");
		return 2;
	}
	return 0;
}
