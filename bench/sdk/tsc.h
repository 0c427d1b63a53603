/*
 * TSC probes and the time base every measurement uses.
 *
 * tsc_start() / tsc_end() are the fenced reads that bracket a measured
 * operation: `lfence; rdtsc` before, `rdtscp; lfence` after (`lfence; rdtsc;
 * lfence` on CPUs without rdtscp), so that neither
 * the operation nor later instructions leak across the reads. cpuid is never
 * used as a fence: it traps to the hypervisor inside a VM.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint64_t tsc_start(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * Some CPUs (seen: a VM on AMD EPYC whose hypervisor hides the flag) have no
 * rdtscp. There the end probe is `lfence; rdtsc; lfence`: the leading lfence
 * waits for the measured instructions as rdtscp would. Chosen once per
 * process from CPUID (tsc.c); tsc_probe_kind() names the pair in use.
 */
extern bool tsc_have_rdtscp;

static inline uint64_t tsc_end(void)
{
	uint32_t lo, hi, aux;
	if (__builtin_expect(tsc_have_rdtscp, 1))
		__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	else
		__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/*
 * rdtscp also returns IA32_TSC_AUX, which Linux sets to (node << 12 | cpu).
 * Without rdtscp, *cpu is UINT_MAX (unknown): callers that need the CPU ask
 * the kernel outside the timed span.
 */
static inline uint64_t tsc_end_cpu(unsigned *cpu)
{
	uint32_t lo, hi, aux;
	if (__builtin_expect(tsc_have_rdtscp, 1)) {
		__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
		*cpu = aux & 0xfff;
	} else {
		__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
		*cpu = ~0u;
	}
	return ((uint64_t)hi << 32) | lo;
}

/* "rdtscp;lfence" or "lfence;rdtsc;lfence": the end probe this process uses. */
const char *tsc_probe_kind(void);
/* Tests: use the fallback end probe even where rdtscp exists. */
void tsc_force_no_rdtscp(void);

enum tsc_source {
	TSC_SRC_NONE = 0,
	TSC_SRC_CPUID_15H,   /* crystal clock ratio: exact */
	TSC_SRC_PERF_MMAP,   /* the kernel's own mult/shift, from a perf mmap page */
	TSC_SRC_CPUID_16H,   /* nominal base MHz: approximate */
	TSC_SRC_CALIBRATED,  /* measured against CLOCK_MONOTONIC_RAW */
};

const char *tsc_source_name(enum tsc_source src);

struct tsc_info {
	uint64_t tsc_khz;              /* the frequency used for conversions */
	enum tsc_source source;        /* where tsc_khz came from */
	uint64_t calibrated_khz;       /* always measured against CLOCK_MONOTONIC_RAW */
	double deviation_ppm;          /* (tsc_khz - calibrated_khz) / calibrated_khz */
	bool invariant;                /* CPUID.80000007H:EDX[8] */
	bool constant_tsc_flag;        /* /proc/cpuinfo constant_tsc */
	bool nonstop_tsc_flag;         /* /proc/cpuinfo nonstop_tsc */
	bool rdtscp;                   /* CPUID.80000001H:EDX[27] */
	uint64_t cpuid15_khz;          /* 0 where unavailable */
	uint64_t cpuid16_khz;
	uint64_t perf_mmap_khz;
};

struct tsc_overhead {
	uint64_t min_cycles;         /* minimum over all batches */
	uint64_t p50_cycles;
	uint64_t p99_cycles;
	uint64_t batch_min_spread;   /* max - min of the per-batch minima */
	unsigned batches;
	bool stable;                 /* spread within TSC_OVERHEAD_STABLE_CYCLES */
};
#define TSC_OVERHEAD_STABLE_CYCLES 4

/* Pure arithmetic, unit-tested. */
uint64_t tsc_cycles_to_ns(uint64_t cycles, uint64_t tsc_khz);
uint64_t tsc_ns_to_cycles(uint64_t ns, uint64_t tsc_khz);
/* From the crystal-clock leaf: eax = denominator, ebx = numerator, ecx = crystal Hz. */
uint64_t tsc_khz_from_cpuid15(uint32_t eax, uint32_t ebx, uint32_t ecx);
/* From a perf mmap page: ns = (cyc * mult) >> shift. */
uint64_t tsc_khz_from_mult_shift(uint32_t mult, uint16_t shift);

/*
 * Determine the TSC frequency: the best available source, always cross-checked
 * against CLOCK_MONOTONIC_RAW over calib_ms milliseconds. Returns 0, or -1 with
 * a reason in `why` when no frequency at all could be established.
 */
int tsc_init(struct tsc_info *info, unsigned calib_ms, char *why, size_t why_len);

/* Measure the probe pair's own overhead in `batches` batches of `per_batch`. */
int tsc_measure_overhead(struct tsc_overhead *out, unsigned batches, unsigned per_batch);

/*
 * Check that the TSCs of two CPUs are synchronized well enough for cross-CPU
 * deltas: two threads bounce a cache line, each stamping it; a timestamp read
 * after observing the other side's write must not be earlier than that write's
 * timestamp. Reports the worst observed backwards step and the round-trip.
 */
struct tsc_sync_result {
	bool ok;
	int64_t max_backwards_cycles;  /* 0 when monotonic in both directions */
	uint64_t min_rtt_cycles;       /* bound on the offset uncertainty */
	unsigned rounds;
};
int tsc_sync_check(int cpu_a, int cpu_b, unsigned rounds, struct tsc_sync_result *out,
		   char *why, size_t why_len);
