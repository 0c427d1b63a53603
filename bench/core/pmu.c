/* PMU counters through libpfm4 + perf_event_open, "unavailable" otherwise. */
#include "pmu.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "config.h"

#if HAVE_LIBPFM
#include <perfmon/pfmlib_perf_event.h>

static int pfm_state; /* 0 untried, 1 ok, -1 failed */
static char pfm_err[96];

static bool pfm_ready(char *why, size_t len)
{
	if (pfm_state == 0) {
		int rc = pfm_initialize();
		pfm_state = rc == PFM_SUCCESS ? 1 : -1;
		if (rc != PFM_SUCCESS)
			snprintf(pfm_err, sizeof(pfm_err), "libpfm4: %s", pfm_strerror(rc));
	}
	if (pfm_state < 0)
		snprintf(why, len, "%s", pfm_err);
	return pfm_state > 0;
}

bool pmu_supported(char *why, size_t len)
{
	return pfm_ready(why, len);
}

/* libpfm4's reason, plus the unit masks to choose from when one is missing. */
static void explain(const char *name, int rc, char *why, size_t len)
{
	int used = snprintf(why, len, "libpfm4 cannot encode %s here: %s", name, pfm_strerror(rc));
	if (rc != PFM_ERR_UMASK || used < 0 || (size_t)used >= len)
		return;
	int idx = pfm_find_event(name);
	pfm_event_info_t info;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	if (idx < 0 || pfm_get_event_info(idx, PFM_OS_NONE, &info) != PFM_SUCCESS)
		return;
	const char *sep = " (write NAME:UMASK, one of: ";
	for (int i = 0; i < info.nattrs && (size_t)used < len; i++) {
		pfm_event_attr_info_t a;
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		if (pfm_get_event_attr_info(idx, i, PFM_OS_NONE, &a) != PFM_SUCCESS || a.type != PFM_ATTR_UMASK)
			continue;
		int w = snprintf(why + used, len - (size_t)used, "%s%s", sep, a.name);
		if (w < 0)
			return;
		used += w;
		sep = ", ";
	}
	if ((size_t)used < len - 1)
		snprintf(why + used, len - (size_t)used, ")");
}

int pmu_encode(const char *name, uint32_t *type, uint64_t *config, char *why, size_t len)
{
	if (!pfm_ready(why, len))
		return -1;
	struct perf_event_attr attr;
	pfm_perf_encode_arg_t arg;
	memset(&attr, 0, sizeof(attr));
	memset(&arg, 0, sizeof(arg));
	arg.attr = &attr;
	arg.size = sizeof(arg);
	int rc = pfm_get_os_event_encoding(name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
	if (rc != PFM_SUCCESS) {
		explain(name, rc, why, len);
		return -1;
	}
	*type = attr.type;
	*config = attr.config;
	return 0;
}

static int open_one(struct pmu_counter *c)
{
	struct perf_event_attr attr;
	pfm_perf_encode_arg_t arg;
	memset(&attr, 0, sizeof(attr));
	memset(&arg, 0, sizeof(arg));
	arg.attr = &attr;
	arg.size = sizeof(arg);
	int rc = pfm_get_os_event_encoding(c->name, PFM_PLM3, PFM_OS_PERF_EVENT, &arg);
	if (rc != PFM_SUCCESS) {
		explain(c->name, rc, c->why, sizeof(c->why));
		return -1;
	}
	attr.size = sizeof(attr);
	attr.disabled = 1;
	attr.exclude_kernel = 0;
	attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0 && (errno == EACCES || errno == EPERM)) {
		attr.exclude_kernel = 1;
		fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	}
	if (fd < 0) {
		snprintf(c->why, sizeof(c->why), "perf_event_open: %s", strerror(errno));
		return -1;
	}
	c->fd = fd;
	c->available = true;
	return 0;
}
#else
bool pmu_supported(char *why, size_t len)
{
	snprintf(why, len, "built without libpfm4");
	return false;
}

int pmu_encode(const char *name, uint32_t *type, uint64_t *config, char *why, size_t len)
{
	(void)name;
	(void)type;
	(void)config;
	snprintf(why, len, "built without libpfm4");
	return -1;
}

static int open_one(struct pmu_counter *c)
{
	snprintf(c->why, sizeof(c->why), "built without libpfm4");
	return -1;
}
#endif

void pmu_open(struct pmu_set *set, const char *const *names, unsigned n)
{
	memset(set, 0, sizeof(*set));
	if (n > PMU_MAX_EVENTS)
		n = PMU_MAX_EVENTS;
	char why[256];
	bool lib = pmu_supported(why, sizeof(why));
	for (unsigned i = 0; i < n; i++) {
		struct pmu_counter *c = &set->c[i];
		snprintf(c->name, sizeof(c->name), "%s", names[i]);
		c->fd = -1;
		if (!lib)
			snprintf(c->why, sizeof(c->why), "%s", why);
		else
			open_one(c);
	}
	set->count = n;
}

void pmu_start(struct pmu_set *set)
{
	for (unsigned i = 0; i < set->count; i++)
		if (set->c[i].available) {
			ioctl(set->c[i].fd, PERF_EVENT_IOC_RESET, 0);
			ioctl(set->c[i].fd, PERF_EVENT_IOC_ENABLE, 0);
		}
}

void pmu_stop(struct pmu_set *set)
{
	for (unsigned i = 0; i < set->count; i++) {
		struct pmu_counter *c = &set->c[i];
		if (!c->available)
			continue;
		ioctl(c->fd, PERF_EVENT_IOC_DISABLE, 0);
		uint64_t buf[3];
		if (read(c->fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf)) {
			c->available = false;
			snprintf(c->why, sizeof(c->why), "read: %s", strerror(errno));
			continue;
		}
		c->enabled_ns = buf[1];
		c->running_ns = buf[2];
		if (c->running_ns == 0) {
			c->available = false;
			snprintf(c->why, sizeof(c->why), "counter never ran (no free PMU counter)");
			continue;
		}
		c->value = c->running_ns < c->enabled_ns
				   ? (uint64_t)((double)buf[0] * (double)c->enabled_ns / (double)c->running_ns)
				   : buf[0];
	}
}

void pmu_close(struct pmu_set *set)
{
	for (unsigned i = 0; i < set->count; i++)
		if (set->c[i].fd >= 0)
			close(set->c[i].fd);
	for (unsigned i = 0; i < set->count; i++)
		set->c[i].fd = -1;
}
