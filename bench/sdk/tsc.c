/* TSC frequency, probe overhead and cross-CPU synchronization. */
#include "tsc.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"

const char *tsc_source_name(enum tsc_source src)
{
	switch (src) {
	case TSC_SRC_CPUID_15H: return "cpuid-0x15";
	case TSC_SRC_PERF_MMAP: return "perf-mmap-page";
	case TSC_SRC_CPUID_16H: return "cpuid-0x16";
	case TSC_SRC_CALIBRATED: return "calibrated-monotonic-raw";
	case TSC_SRC_NONE: break;
	}
	return "none";
}

/* false until the constructor has looked: the fallback probe is always safe */
bool tsc_have_rdtscp;

static bool cpu_has_rdtscp(void)
{
	unsigned a, b, c, d;
	return __get_cpuid_max(0x80000000u, NULL) >= 0x80000001u && __get_cpuid(0x80000001u, &a, &b, &c, &d) &&
	       ((d >> 27) & 1);
}

__attribute__((constructor)) static void tsc_choose_probe(void)
{
	tsc_have_rdtscp = cpu_has_rdtscp();
}

void tsc_force_no_rdtscp(void)
{
	tsc_have_rdtscp = false;
}

const char *tsc_probe_kind(void)
{
	return tsc_have_rdtscp ? "rdtscp;lfence" : "lfence;rdtsc;lfence";
}

uint64_t tsc_cycles_to_ns(uint64_t cycles, uint64_t tsc_khz)
{
	if (tsc_khz == 0)
		return 0;
	/* cycles * 1e6 / khz, without overflow for any 64-bit cycle count */
	unsigned __int128 p = (unsigned __int128)cycles * 1000000u;
	return (uint64_t)((p + tsc_khz / 2) / tsc_khz);
}

uint64_t tsc_ns_to_cycles(uint64_t ns, uint64_t tsc_khz)
{
	unsigned __int128 p = (unsigned __int128)ns * tsc_khz;
	return (uint64_t)((p + 500000u) / 1000000u);
}

uint64_t tsc_khz_from_cpuid15(uint32_t eax, uint32_t ebx, uint32_t ecx)
{
	if (eax == 0 || ebx == 0 || ecx == 0)
		return 0;
	return (uint64_t)ecx * ebx / eax / 1000u;
}

uint64_t tsc_khz_from_mult_shift(uint32_t mult, uint16_t shift)
{
	if (mult == 0 || shift > 63)
		return 0;
	/* ns = cyc * mult >> shift  =>  Hz = 1e9 * 2^shift / mult */
	unsigned __int128 num = (unsigned __int128)1000000u << shift;
	return (uint64_t)((num + mult / 2) / mult);
}

static uint64_t mono_raw_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A TSC read paired with the tightest-bracketed CLOCK_MONOTONIC_RAW read. */
static void paired_read(uint64_t *tsc, uint64_t *ns)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 16; i++) {
		uint64_t t0 = tsc_start();
		uint64_t n = mono_raw_ns();
		uint64_t t1 = tsc_end();
		if (t1 - t0 < best) {
			best = t1 - t0;
			*tsc = t0 + (t1 - t0) / 2;
			*ns = n;
		}
	}
}

static uint64_t calibrate_khz(unsigned ms)
{
	uint64_t tsc0, ns0, tsc1, ns1;
	paired_read(&tsc0, &ns0);
	struct timespec d = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
	paired_read(&tsc1, &ns1);
	if (ns1 <= ns0)
		return 0;
	return (uint64_t)((double)(tsc1 - tsc0) * 1e6 / (double)(ns1 - ns0) + 0.5);
}

static uint64_t perf_mmap_khz(void)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_DUMMY;
	attr.exclude_kernel = 1;
	int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return 0;
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
	uint64_t khz = 0;
	if (p != MAP_FAILED) {
		const struct perf_event_mmap_page *pg = p;
		if (pg->cap_user_time)
			khz = tsc_khz_from_mult_shift(pg->time_mult, pg->time_shift);
		munmap(p, (size_t)page);
	}
	close(fd);
	return khz;
}

static bool cpuinfo_has_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	size_t fl = strlen(flag);
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (char *p = strstr(line, flag); p; p = strstr(p + 1, flag)) {
			if (p[-1] == ' ' && (p[fl] == ' ' || p[fl] == '\n' || p[fl] == '\0')) {
				found = true;
				break;
			}
		}
		break;
	}
	fclose(f);
	return found;
}

int tsc_init(struct tsc_info *info, unsigned calib_ms, char *why, size_t why_len)
{
	memset(info, 0, sizeof(*info));
	unsigned a, b, c, d;
	unsigned max_leaf = __get_cpuid_max(0, NULL);
	unsigned max_ext = __get_cpuid_max(0x80000000u, NULL);

	if (max_ext >= 0x80000007u && __get_cpuid(0x80000007u, &a, &b, &c, &d))
		info->invariant = (d >> 8) & 1;
	info->rdtscp = cpu_has_rdtscp();
	info->constant_tsc_flag = cpuinfo_has_flag("constant_tsc");
	info->nonstop_tsc_flag = cpuinfo_has_flag("nonstop_tsc");
	if (max_leaf >= 0x15 && __get_cpuid(0x15, &a, &b, &c, &d))
		info->cpuid15_khz = tsc_khz_from_cpuid15(a, b, c);
	if (max_leaf >= 0x16 && __get_cpuid(0x16, &a, &b, &c, &d))
		info->cpuid16_khz = (uint64_t)(a & 0xffff) * 1000u;
	info->perf_mmap_khz = perf_mmap_khz();
	info->calibrated_khz = calibrate_khz(calib_ms ? calib_ms : 100);

	if (info->cpuid15_khz) {
		info->tsc_khz = info->cpuid15_khz;
		info->source = TSC_SRC_CPUID_15H;
	} else if (info->perf_mmap_khz) {
		info->tsc_khz = info->perf_mmap_khz;
		info->source = TSC_SRC_PERF_MMAP;
	} else if (info->calibrated_khz) {
		info->tsc_khz = info->calibrated_khz;
		info->source = TSC_SRC_CALIBRATED;
	} else if (info->cpuid16_khz) {
		info->tsc_khz = info->cpuid16_khz;
		info->source = TSC_SRC_CPUID_16H;
	}
	if (info->tsc_khz == 0) {
		snprintf(why, why_len, "no TSC frequency source worked (cpuid, perf mmap page, calibration)");
		return -1;
	}
	if (info->calibrated_khz)
		info->deviation_ppm = ((double)info->tsc_khz - (double)info->calibrated_khz) /
				      (double)info->calibrated_khz * 1e6;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int tsc_measure_overhead(struct tsc_overhead *out, unsigned batches, unsigned per_batch)
{
	memset(out, 0, sizeof(*out));
	if (batches == 0 || per_batch == 0)
		return -1;
	uint64_t *v = malloc(sizeof(*v) * per_batch);
	uint64_t *all_p50 = malloc(sizeof(*all_p50) * batches);
	if (!v || !all_p50) {
		free(v);
		free(all_p50);
		return -1;
	}
	uint64_t lo_min = UINT64_MAX, hi_min = 0, p99_max = 0;
	for (unsigned b = 0; b < batches; b++) {
		for (unsigned i = 0; i < per_batch; i++) {
			uint64_t t0 = tsc_start();
			uint64_t t1 = tsc_end();
			v[i] = t1 - t0;
		}
		qsort(v, per_batch, sizeof(*v), cmp_u64);
		if (v[0] < lo_min)
			lo_min = v[0];
		if (v[0] > hi_min)
			hi_min = v[0];
		all_p50[b] = v[per_batch / 2];
		uint64_t p99 = v[(uint64_t)per_batch * 99 / 100];
		if (p99 > p99_max)
			p99_max = p99;
	}
	qsort(all_p50, batches, sizeof(*all_p50), cmp_u64);
	out->min_cycles = lo_min;
	out->p50_cycles = all_p50[batches / 2];
	out->p99_cycles = p99_max;
	out->batch_min_spread = hi_min - lo_min;
	out->batches = batches;
	out->stable = out->batch_min_spread <= TSC_OVERHEAD_STABLE_CYCLES;
	free(v);
	free(all_p50);
	return 0;
}

/* --- cross-CPU synchronization check --------------------------------- */

struct sync_shared {
	_Alignas(BENCH_CACHELINE) _Atomic uint64_t stamp;  /* last writer's TSC */
	_Atomic unsigned turn;                              /* 0: A writes, 1: B writes */
	_Atomic int abort;  /* a side gave up waiting */
	unsigned rounds;
	int64_t worst_b;    /* B's worst backwards step */
};

static int pin_to(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

/* Spin until turn == want; false after SYNC_SPIN_LIMIT_NS without progress. */
#define SYNC_SPIN_LIMIT_NS 2000000000ull

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool wait_turn(struct sync_shared *sh, unsigned want)
{
	uint64_t start = 0;
	for (unsigned spins = 1;; spins++) {
		if (atomic_load_explicit(&sh->turn, memory_order_acquire) == want)
			return true;
		if ((spins & 0xfffff) == 0) {
			uint64_t now = mono_ns();
			if (!start)
				start = now;
			else if (now - start > SYNC_SPIN_LIMIT_NS || atomic_load(&sh->abort))
				return false;
		}
	}
}

static void *sync_side_b(void *arg)
{
	struct sync_shared *sh = arg;
	int64_t worst = 0;
	for (unsigned i = 0; i < sh->rounds; i++) {
		if (!wait_turn(sh, 1)) {
			atomic_store(&sh->abort, 1);
			break;
		}
		uint64_t seen = atomic_load_explicit(&sh->stamp, memory_order_relaxed);
		uint64_t now = tsc_end();
		int64_t back = (int64_t)(seen - now);
		if (back > worst)
			worst = back;
		atomic_store_explicit(&sh->stamp, tsc_end(), memory_order_relaxed);
		atomic_store_explicit(&sh->turn, 0, memory_order_release);
	}
	sh->worst_b = worst;
	return NULL;
}

int tsc_sync_check(int cpu_a, int cpu_b, unsigned rounds, struct tsc_sync_result *out,
		   char *why, size_t why_len)
{
	memset(out, 0, sizeof(*out));
	if (cpu_a == cpu_b) {
		/* one CPU, one TSC: nothing to compare */
		out->ok = true;
		return 0;
	}
	struct sync_shared *sh = aligned_alloc(BENCH_CACHELINE, sizeof(*sh));
	if (!sh) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	memset(sh, 0, sizeof(*sh));
	sh->rounds = rounds;

	cpu_set_t old;
	sched_getaffinity(0, sizeof(old), &old);
	int err = pin_to(cpu_a);
	if (err) {
		snprintf(why, why_len, "cannot pin to CPU %d: %s", cpu_a, strerror(err));
		free(sh);
		return -1;
	}
	/*
	 * Side B is created already on cpu_b: if it started on our CPU it could
	 * never run while a SCHED_FIFO caller spins waiting for it.
	 */
	pthread_attr_t attr;
	cpu_set_t set_b;
	CPU_ZERO(&set_b);
	CPU_SET(cpu_b, &set_b);
	pthread_attr_init(&attr);
	err = pthread_attr_setaffinity_np(&attr, sizeof(set_b), &set_b);
	pthread_t tid;
	if (!err)
		err = pthread_create(&tid, &attr, sync_side_b, sh);
	pthread_attr_destroy(&attr);
	if (err) {
		snprintf(why, why_len, "cannot start a thread on CPU %d: %s", cpu_b, strerror(err));
		sched_setaffinity(0, sizeof(old), &old);
		free(sh);
		return -1;
	}
	int64_t worst_a = 0;
	uint64_t min_rtt = UINT64_MAX;
	bool stalled = false;
	for (unsigned i = 0; i < rounds && !stalled; i++) {
		uint64_t sent = tsc_end();
		atomic_store_explicit(&sh->stamp, sent, memory_order_relaxed);
		atomic_store_explicit(&sh->turn, 1, memory_order_release);
		if (!wait_turn(sh, 0)) {
			atomic_store(&sh->abort, 1);
			stalled = true;
			break;
		}
		uint64_t seen = atomic_load_explicit(&sh->stamp, memory_order_relaxed);
		uint64_t now = tsc_end();
		int64_t back = (int64_t)(seen - now);
		if (back > worst_a)
			worst_a = back;
		if (now - sent < min_rtt)
			min_rtt = now - sent;
	}
	pthread_join(tid, NULL);
	sched_setaffinity(0, sizeof(old), &old);
	if (stalled || atomic_load(&sh->abort)) {
		snprintf(why, why_len, "CPU %d and CPU %d stopped answering each other for 2 s "
			 "(is a real-time task hogging one of them?)", cpu_a, cpu_b);
		free(sh);
		return -1;
	}
	out->rounds = rounds;
	out->min_rtt_cycles = min_rtt;
	out->max_backwards_cycles = worst_a > sh->worst_b ? worst_a : sh->worst_b;
	out->ok = out->max_backwards_cycles == 0;
	free(sh);
	return 0;
}
