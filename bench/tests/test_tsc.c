/* TSC maths on known inputs, and robust properties of the live time base. */
#include <string.h>

#include "check.h"
#include "tsc.h"

static void test_maths(void)
{
	CHECK_EQ_U64(tsc_cycles_to_ns(3000, 3000000), 1000);        /* 3 GHz */
	CHECK_EQ_U64(tsc_cycles_to_ns(2500, 2500000), 1000);
	CHECK_EQ_U64(tsc_cycles_to_ns(1, 2000000), 1);              /* 0.5 ns rounds up */
	CHECK_EQ_U64(tsc_cycles_to_ns(0, 2000000), 0);
	CHECK_EQ_U64(tsc_cycles_to_ns(123, 0), 0);                  /* no frequency: no answer */
	CHECK_EQ_U64(tsc_ns_to_cycles(1000, 3000000), 3000);
	CHECK_EQ_U64(tsc_ns_to_cycles(1, 2500000), 3);              /* 2.5 rounds up */
	/* no overflow for a day of cycles at 5 GHz */
	uint64_t day_cycles = 86400ull * 5000000000ull;
	CHECK_EQ_U64(tsc_cycles_to_ns(day_cycles, 5000000), 86400ull * 1000000000ull);
	/* round trip */
	for (uint64_t ns = 1; ns < 10000000; ns = ns * 3 + 1)
		CHECK_NEAR((double)tsc_cycles_to_ns(tsc_ns_to_cycles(ns, 2893219), 2893219), (double)ns, 1.0);

	/* CPUID 0x15: 24 MHz crystal, ratio 176/2 -> 2112 MHz */
	CHECK_EQ_U64(tsc_khz_from_cpuid15(2, 176, 24000000), 2112000);
	CHECK_EQ_U64(tsc_khz_from_cpuid15(0, 176, 24000000), 0);    /* leaf not enumerated */
	CHECK_EQ_U64(tsc_khz_from_cpuid15(2, 176, 0), 0);           /* crystal unknown */
	/* perf mmap page: ns = cyc * mult >> shift; 3 GHz has mult = 2^shift / 3 */
	CHECK_NEAR((double)tsc_khz_from_mult_shift(715827883u, 31), 3000000.0, 1.0);
	CHECK_EQ_U64(tsc_khz_from_mult_shift(0, 31), 0);
}

static void test_live(void)
{
	struct tsc_info t;
	char why[256] = "";
	int rc = tsc_init(&t, 50, why, sizeof(why));
	CHECK(rc == 0);
	if (rc) {
		fprintf(stderr, "tsc_init: %s\n", why);
		return;
	}
	CHECK(t.tsc_khz > 100000);          /* above 100 MHz: any machine that runs this */
	CHECK(t.source != TSC_SRC_NONE);
	CHECK(t.calibrated_khz > 0);
	/* whatever the source, it must agree with CLOCK_MONOTONIC_RAW within 1% */
	CHECK(t.deviation_ppm < 10000 && t.deviation_ppm > -10000);

	/* the probes are ordered and cost something */
	uint64_t a = tsc_start(), b = tsc_end();
	CHECK(b > a);
	struct tsc_overhead o;
	CHECK(tsc_measure_overhead(&o, 5, 1000) == 0);
	CHECK(o.min_cycles > 0);
	CHECK(o.min_cycles <= o.p50_cycles && o.p50_cycles <= o.p99_cycles);
	CHECK(o.batches == 5);
	CHECK(tsc_measure_overhead(&o, 0, 1000) != 0);
	CHECK(strcmp(tsc_source_name(t.source), "none") != 0);
}

/* The fallback end probe (CPUs without rdtscp) is ordered and calibrates alike. */
static void test_no_rdtscp(void)
{
	tsc_force_no_rdtscp();
	CHECK(strcmp(tsc_probe_kind(), "lfence;rdtsc;lfence") == 0);
	struct tsc_info t;
	char why[256] = "";
	CHECK_MSG(tsc_init(&t, 50, why, sizeof(why)) == 0, "tsc_init without rdtscp: %s", why);
	uint64_t a = tsc_start(), b = tsc_end();
	CHECK(b > a);
	unsigned cpu = 0;
	uint64_t c = tsc_end_cpu(&cpu);
	CHECK(c > b);
	CHECK(cpu == ~0u);   /* unknown, never a made-up CPU number */
	struct tsc_overhead o;
	CHECK(tsc_measure_overhead(&o, 5, 1000) == 0);
	CHECK(o.min_cycles > 0);
}

int main(void)
{
	test_maths();
	test_live();
	test_no_rdtscp();   /* last: it switches the probe for the rest of the process */
	CHECK_DONE();
}
