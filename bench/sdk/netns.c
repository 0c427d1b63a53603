/* A private network for a case and its sender (see netns.h). */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NETNS_CARRIER_WAIT_US 50000

int netns_loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int err = 0;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		err = errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
		err = errno;
	close(fd);
	return err;
}

int netns_run_ip(const char *const argv[])
{
	static const char *const paths[] = { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" };
	const char *path = NULL;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]) && !path; i++)
		if (access(paths[i], X_OK) == 0)
			path = paths[i];
	if (!path)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execv(path, (char *const *)argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

void netns_disable_ipv6(const char *dev)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1) {
			/* best effort, see above */
		}
		close(fd);
	}
}

enum netns_net netns_case_enter(char *why, size_t why_len)
{
	why[0] = '\0';
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(why, why_len, "unshare(CLONE_NEWNET): %s; host loopback", strerror(errno));
		return NETNS_LOOPBACK_HOST;
	}
	int err = netns_loopback_up();
	if (err) {
		snprintf(why, why_len, "bringing up lo in the private namespace: %s", strerror(err));
		return NETNS_LOOPBACK_HOST;
	}
	const char *const add[] = { "ip", "link", "add", NETNS_VETH_CASE, "address", NETNS_MAC_CASE, "type", "veth",
				    "peer", "name", NETNS_VETH_SENDER, "address", NETNS_MAC_SENDER, NULL };
	if (netns_run_ip(add) != 0) {
		snprintf(why, why_len, "`ip link add ... type veth` failed; loopback in a private namespace");
		return NETNS_LOOPBACK_PRIVATE;
	}
	netns_disable_ipv6(NETNS_VETH_CASE);   /* the sender's end: in its namespace (a move resets the setting) */
	return NETNS_VETH;
}

static int sender_configure(void)
{
	const char *const addr[] = { "ip", "addr", "add", NETNS_SENDER_ADDR "/24", "dev", NETNS_VETH_SENDER, NULL };
	const char *const up[] = { "ip", "link", "set", NETNS_VETH_SENDER, "up", NULL };
	/* a permanent neighbour: no ARP, so no packet waits on (or is lost to) a resolution */
	const char *const neigh[] = { "ip", "neigh", "replace", NETNS_CASE_ADDR, "lladdr", NETNS_MAC_CASE, "dev",
				      NETNS_VETH_SENDER, "nud", "permanent", NULL };
	netns_disable_ipv6(NETNS_VETH_SENDER);
	return netns_run_ip(addr) || netns_run_ip(up) || netns_run_ip(neigh) ? -1 : 0;
}

int netns_sender_join(struct netns_sync *sy)
{
	int err = 0;
	if (unshare(CLONE_NEWNET) != 0)
		err = errno;
	if (!err)
		err = netns_loopback_up();
	if (err) {
		atomic_store(&sy->failed, err);
		return err;
	}
	atomic_store(&sy->unshared, 1);
	while (atomic_load(&sy->go) == 0)
		usleep(1000);
	if (atomic_load(&sy->go) < 0 || sender_configure() != 0) {
		atomic_store(&sy->failed, ENODEV);
		return ENODEV;
	}
	usleep(NETNS_CARRIER_WAIT_US);   /* the pair's carrier comes up asynchronously */
	return 0;
}

int netns_case_hand_over(struct netns_sync *sy, pid_t sender, char *why, size_t why_len)
{
	int err = netns_wait_flag(&sy->unshared, &sy->failed);
	if (err) {
		atomic_store(&sy->go, -1);
		snprintf(why, why_len, "the sender's namespace: %s", strerror(err));
		return err;
	}
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)sender);
	const char *const move[] = { "ip", "link", "set", NETNS_VETH_SENDER, "netns", pid, NULL };
	const char *const addr[] = { "ip", "addr", "add", NETNS_CASE_ADDR "/24", "dev", NETNS_VETH_CASE, NULL };
	const char *const up[] = { "ip", "link", "set", NETNS_VETH_CASE, "up", NULL };
	const char *const neigh[] = { "ip", "neigh", "replace", NETNS_SENDER_ADDR, "lladdr", NETNS_MAC_SENDER, "dev",
				      NETNS_VETH_CASE, "nud", "permanent", NULL };
	if (netns_run_ip(move) || netns_run_ip(addr) || netns_run_ip(up) || netns_run_ip(neigh)) {
		atomic_store(&sy->go, -1);
		snprintf(why, why_len, "`ip link set %s netns %s` or configuring %s failed", NETNS_VETH_SENDER, pid,
			 NETNS_VETH_CASE);
		return ENODEV;
	}
	atomic_store(&sy->go, 1);
	return 0;
}

int netns_wait_flag(_Atomic int *flag, _Atomic int *failed)
{
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (atomic_load(flag))
			return 0;
		if (atomic_load(failed))
			return atomic_load(failed);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 > NETNS_READY_MS)
			return ETIMEDOUT;
		usleep(1000);
	}
}

void netns_veth_delete(void)
{
	const char *const del[] = { "ip", "link", "del", NETNS_VETH_CASE, NULL };
	netns_run_ip(del);   /* usually gone already: the sender's namespace died with it */
}

/* rps_cpus takes a hex mask in comma-separated 32-bit groups, the highest first. */
static int rps_mask(int cpu, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%x", 1u << (cpu % 32));
	for (int g = 0; g < cpu / 32 && n > 0 && (size_t)n < len; g++)
		n += snprintf(buf + n, len - (size_t)n, ",00000000");
	return n > 0 && (size_t)n < len ? 0 : ENAMETOOLONG;
}

/*
 * The host's /sys shows the host's network namespace; the case's veth is
 * only visible in a sysfs mounted from the case's namespace. A child (same
 * network namespace) takes a private mount namespace, mounts sysfs over
 * /sys there and writes the mask; its mounts end with it. Exit status: errno.
 */
int netns_veth_steer_rx(int cpu)
{
	char mask[160];
	if (cpu < 0 || rps_mask(cpu, mask, sizeof(mask)) != 0)
		return EINVAL;
	pid_t pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) != 0)
			_exit(errno & 0xff);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 || mount("sysfs", "/sys", "sysfs", 0, NULL) != 0)
			_exit(errno & 0xff);
		int fd = open("/sys/class/net/" NETNS_VETH_CASE "/queues/rx-0/rps_cpus", O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(errno & 0xff);
		ssize_t w = write(fd, mask, strlen(mask));
		int err = w == (ssize_t)strlen(mask) ? 0 : (w < 0 ? errno : EIO);
		close(fd);
		_exit(err & 0xff);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (!WIFEXITED(status))
		return EINTR;
	return WEXITSTATUS(status);
}
