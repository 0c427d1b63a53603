/* Platform metadata for meta.json: everything a reader needs to judge a number. */
#include "platform.h"

#include <cpuid.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "gapbench_version.h"
#include "jsontext.h"
#include "pmu.h"

/* First line of a file, without its newline; NULL when unreadable. */
static char *read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *r = fgets(buf, (int)len, f);
	fclose(f);
	if (!r)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* A JSON string of a file's first line, or the string "unavailable". */
static json_t *file_or_unavailable(const char *path)
{
	char buf[4096];
	return json_text(read_line(path, buf, sizeof(buf)) ? buf : "unavailable");
}

static void cpuinfo_field(const char *key, char *out, size_t len)
{
	snprintf(out, len, "unavailable");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	static char line[16384];
	size_t kl = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, kl) == 0 && (line[kl] == ' ' || line[kl] == '\t' || line[kl] == ':')) {
			char *colon = strchr(line, ':');
			if (colon) {
				colon++;
				while (*colon == ' ')
					colon++;
				colon[strcspn(colon, "\n")] = '\0';
				snprintf(out, len, "%s", colon);
			}
			break;
		}
	}
	fclose(f);
}

bool platform_hypervisor(char *vendor, size_t len)
{
	unsigned a, b, c, d;
	bool present = __get_cpuid(1, &a, &b, &c, &d) && (c >> 31) & 1;
	snprintf(vendor, len, "none");
	if (present) {
		char v[13] = { 0 };
		__cpuid(0x40000000u, a, b, c, d);
		memcpy(v, &b, 4);
		memcpy(v + 4, &c, 4);
		memcpy(v + 8, &d, 4);
		snprintf(vendor, len, "%s", v);
	}
	return present;
}

/* {file: first line} for every regular file in dir; "unavailable" when absent. */
static json_t *dir_files(const char *dir)
{
	DIR *dh = opendir(dir);
	if (!dh)
		return json_text("unavailable");
	json_t *o = json_object();
	struct dirent *e;
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		char path[1024], buf[512];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (read_line(path, buf, sizeof(buf)))
			json_object_set_new(o, e->d_name, json_text(buf));
	}
	closedir(dh);
	return o;
}

static json_t *governors(void)
{
	json_t *o = json_object();
	long n = sysconf(_SC_NPROCESSORS_CONF);
	for (long c = 0; c < n; c++) {
		char path[128], buf[64], key[32];
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%ld/cpufreq/scaling_governor", c);
		snprintf(key, sizeof(key), "cpu%ld", c);
		json_object_set_new(o, key, json_text(read_line(path, buf, sizeof(buf)) ? buf : "unavailable"));
	}
	return o;
}

static json_t *kvm_info(bool hypervisor)
{
	json_t *o = json_object();
	bool dev = access("/dev/kvm", R_OK | W_OK) == 0;
	json_object_set_new(o, "dev_kvm", json_boolean(dev));
	json_object_set_new(o, "guests_are_nested", json_boolean(dev && hypervisor));
	const char *mods[] = { "kvm", "kvm_intel", "kvm_amd" };
	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		char dir[128];
		snprintf(dir, sizeof(dir), "/sys/module/%s/parameters", mods[i]);
		if (access(dir, R_OK) == 0)
			json_object_set_new(o, mods[i], dir_files(dir));
	}
	return o;
}

static json_t *tsc_json(const struct tsc_info *t, const struct tsc_overhead *ovh)
{
	json_t *o = json_pack("{s:I, s:s, s:I, s:f, s:b, s:b, s:b, s:b, s:s, s:I, s:I, s:I}",
			      "tsc_khz", (json_int_t)t->tsc_khz,
			      "source", tsc_source_name(t->source),
			      "calibrated_khz", (json_int_t)t->calibrated_khz,
			      "deviation_from_monotonic_raw_ppm", t->deviation_ppm,
			      "invariant_cpuid", t->invariant,
			      "constant_tsc", t->constant_tsc_flag,
			      "nonstop_tsc", t->nonstop_tsc_flag,
			      "rdtscp", t->rdtscp,
			      "end_probe", tsc_probe_kind(),
			      "cpuid_15h_khz", (json_int_t)t->cpuid15_khz,
			      "cpuid_16h_khz", (json_int_t)t->cpuid16_khz,
			      "perf_mmap_khz", (json_int_t)t->perf_mmap_khz);
	if (ovh)
		json_object_set_new(o, "probe_overhead", json_pack("{s:I, s:I, s:I, s:I, s:i, s:b}",
			"min_cycles", (json_int_t)ovh->min_cycles,
			"p50_cycles", (json_int_t)ovh->p50_cycles,
			"p99_cycles", (json_int_t)ovh->p99_cycles,
			"batch_min_spread_cycles", (json_int_t)ovh->batch_min_spread,
			"batches", (int)ovh->batches,
			"stable", ovh->stable));
	return o;
}

json_t *platform_describe(const struct tsc_info *tsc, const struct tsc_overhead *ovh)
{
	json_t *root = json_object();
	char buf[4096];

	json_t *cpu = json_object();
	cpuinfo_field("model name", buf, sizeof(buf));
	json_object_set_new(cpu, "model", json_text(buf));
	cpuinfo_field("vendor_id", buf, sizeof(buf));
	json_object_set_new(cpu, "vendor", json_text(buf));
	cpuinfo_field("microcode", buf, sizeof(buf));
	json_object_set_new(cpu, "microcode", json_text(buf));
	cpuinfo_field("flags", buf, sizeof(buf));
	json_object_set_new(cpu, "flags", json_text(buf));
	json_object_set_new(cpu, "online", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(cpu, "smt_active", file_or_unavailable("/sys/devices/system/cpu/smt/active"));
	json_object_set_new(cpu, "isolated", file_or_unavailable("/sys/devices/system/cpu/isolated"));
	json_object_set_new(cpu, "nohz_full", file_or_unavailable("/sys/devices/system/cpu/nohz_full"));
	json_object_set_new(cpu, "governor", governors());
	json_object_set_new(root, "cpu", cpu);

	json_object_set_new(root, "tsc", tsc_json(tsc, ovh));

	struct utsname u;
	json_t *kern = json_object();
	if (uname(&u) == 0) {
		json_object_set_new(kern, "release", json_text(u.release));
		json_object_set_new(kern, "version", json_text(u.version));
		json_object_set_new(kern, "machine", json_text(u.machine));
		json_object_set_new(kern, "hostname", json_text(u.nodename));
	}
	json_object_set_new(kern, "cmdline", file_or_unavailable("/proc/cmdline"));
	json_object_set_new(kern, "clocksource",
			    file_or_unavailable("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
	json_object_set_new(kern, "sched_rt_runtime_us", file_or_unavailable("/proc/sys/kernel/sched_rt_runtime_us"));
	json_object_set_new(kern, "perf_event_paranoid", file_or_unavailable("/proc/sys/kernel/perf_event_paranoid"));
	json_object_set_new(kern, "mitigations", dir_files("/sys/devices/system/cpu/vulnerabilities"));
	json_object_set_new(root, "kernel", kern);

	char vendor[32];
	bool hv = platform_hypervisor(vendor, sizeof(vendor));
	json_object_set_new(root, "hypervisor", json_pack("{s:b, s:o, s:o, s:o}",
		"present", hv, "cpuid_vendor", json_text(vendor),
		"dmi_product", file_or_unavailable("/sys/class/dmi/id/product_name"),
		"dmi_vendor", file_or_unavailable("/sys/class/dmi/id/sys_vendor")));
	json_object_set_new(root, "kvm", kvm_info(hv));

	char why[128] = "";
	bool pfm = pmu_supported(why, sizeof(why));
	bool hw = access("/sys/bus/event_source/devices/cpu", F_OK) == 0 ||
		  access("/sys/bus/event_source/devices/cpu_core", F_OK) == 0;
	json_object_set_new(root, "pmu", json_pack("{s:b, s:b, s:s}",
		"libpfm4", pfm, "hardware_pmu_visible", hw, "why", pfm ? "" : why));

	json_object_set_new(root, "build", json_pack("{s:s, s:s, s:s, s:s, s:b}",
		"version", GAPBENCH_VERSION, "git_revision", GAPBENCH_GIT_REVISION,
		"buildtype", GAPBENCH_BUILDTYPE, "sanitize", GAPBENCH_SANITIZE,
		"timings_from_sanitized_build", strcmp(GAPBENCH_SANITIZE, "none") != 0));
	return root;
}
