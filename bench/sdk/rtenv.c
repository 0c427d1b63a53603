/* Real-time environment: set, then read back from the kernel. */
#include "rtenv.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static int64_t vmlck_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	char line[256];
	int64_t kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int rtenv_pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

int rtenv_fifo_self(int priority)
{
	struct sched_param sp = { .sched_priority = priority };
	return sched_setscheduler(0, priority > 0 ? SCHED_FIFO : SCHED_OTHER, &sp) == 0 ? 0 : errno;
}

void rtenv_apply(const struct rtenv_request *req, struct rtenv_state *st)
{
	memset(st, 0, sizeof(*st));
	st->dma_fd = -1;

	if (req->mlock) {
		st->mlock.requested = true;
		if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
			st->mlock.err = errno;
	}
	st->mlock.got = vmlck_kb();
	st->mlock.ok = !req->mlock || (st->mlock.err == 0 && st->mlock.got > 0);

	if (req->cpu >= 0) {
		st->cpu.requested = true;
		st->cpu.err = rtenv_pin_self(req->cpu);
	}
	cpu_set_t set;
	st->cpu.got = -1;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) == 1)
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &set))
				st->cpu.got = c;
	st->cpu.ok = req->cpu < 0 || st->cpu.got == req->cpu;

	if (req->priority > 0) {
		st->priority.requested = true;
		st->priority.err = rtenv_fifo_self(req->priority);
	}
	struct sched_param sp;
	int pol = sched_getscheduler(0);
	st->priority.got = (pol == SCHED_FIFO && sched_getparam(0, &sp) == 0) ? sp.sched_priority : -1;
	st->priority.ok = req->priority <= 0 || st->priority.got == req->priority;

	if (req->dma_latency) {
		st->dma_latency.requested = true;
		st->dma_latency.got = -1;
		int fd = open("/dev/cpu_dma_latency", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			st->dma_latency.err = errno;
		} else {
			int32_t zero = 0, back = -1;
			if (write(fd, &zero, sizeof(zero)) != (ssize_t)sizeof(zero))
				st->dma_latency.err = errno ? errno : EIO;
			else if (pread(fd, &back, sizeof(back), 0) == (ssize_t)sizeof(back))
				st->dma_latency.got = back;
			st->dma_fd = fd;
		}
		st->dma_latency.ok = st->dma_latency.err == 0 && st->dma_latency.got == 0;
	} else {
		st->dma_latency.ok = true;
	}

	if (req->timer_slack_ns >= 0) {
		st->timer_slack.requested = true;
		if (prctl(PR_SET_TIMERSLACK, (unsigned long)(req->timer_slack_ns ? req->timer_slack_ns : 1), 0, 0, 0) != 0)
			st->timer_slack.err = errno;
	}
	st->timer_slack.got = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	/* the kernel gives real-time tasks no slack at all (6.x reads back 0): less slack than asked is fine */
	st->timer_slack.ok = req->timer_slack_ns < 0 ||
			     (st->timer_slack.got >= 0 && st->timer_slack.got <= (req->timer_slack_ns ? req->timer_slack_ns : 1));
}

void rtenv_release(struct rtenv_state *st)
{
	if (st->dma_fd >= 0)
		close(st->dma_fd);
	st->dma_fd = -1;
}

static void join(char *buf, size_t len, size_t *used, const char *text, int err, const char *grant)
{
	if (*used >= len)
		return;
	int w = snprintf(buf + *used, len - *used, "%s%s (%s: %s)", *used ? "; " : "", text,
			 err ? strerror(err) : "not in effect", grant);
	if (w > 0)
		*used += (size_t)w;
}

int rtenv_refused(const struct rtenv_request *req, const struct rtenv_state *st, char *why, size_t len)
{
	size_t used = 0;
	int n = 0;
	char text[64];
	if (len)
		why[0] = '\0';
	if (st->priority.requested && !st->priority.ok) {
		snprintf(text, sizeof(text), "SCHED_FIFO priority %d", req->priority);
		join(why, len, &used, text, st->priority.err,
		     "needs root, CAP_SYS_NICE or an rtprio limit, ulimit -r");
		n++;
	}
	if (st->mlock.requested && !st->mlock.ok) {
		join(why, len, &used, "mlockall", st->mlock.err,
		     "needs root, CAP_IPC_LOCK or ulimit -l; or mlock = false");
		n++;
	}
	if (st->dma_latency.requested && !st->dma_latency.ok) {
		join(why, len, &used, "/dev/cpu_dma_latency = 0", st->dma_latency.err,
		     "needs root; or dma_latency = false");
		n++;
	}
	if (st->cpu.requested && !st->cpu.ok) {
		snprintf(text, sizeof(text), "pinning to CPU %d", req->cpu);
		join(why, len, &used, text, st->cpu.err, "not in this process's affinity or cpuset");
		n++;
	}
	if (st->timer_slack.requested && !st->timer_slack.ok) {
		join(why, len, &used, "timer slack", st->timer_slack.err, "or timer_slack_ns = -1");
		n++;
	}
	return n;
}
