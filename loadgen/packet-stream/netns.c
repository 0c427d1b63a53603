/* Namespace and veth plumbing for the packet stream (see netns.h). */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int ps_loopback_up(void)
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

int ps_run_ip(const char *const argv[])
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

int ps_veth_create(void)
{
	const char *const add[] = { "ip", "link", "add", PS_VETH_CASE, "address", PS_MAC_CASE, "type", "veth",
				    "peer", "name", PS_VETH_SENDER, "address", PS_MAC_SENDER, NULL };
	return ps_run_ip(add);
}

int ps_veth_hand_over(pid_t sender)
{
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)sender);
	const char *const move[] = { "ip", "link", "set", PS_VETH_SENDER, "netns", pid, NULL };
	const char *const addr[] = { "ip", "addr", "add", PS_RECEIVER_ADDR "/24", "dev", PS_VETH_CASE, NULL };
	const char *const up[] = { "ip", "link", "set", PS_VETH_CASE, "up", NULL };
	return ps_run_ip(move) || ps_run_ip(addr) || ps_run_ip(up) ? -1 : 0;
}

int ps_veth_configure_sender(void)
{
	const char *const addr[] = { "ip", "addr", "add", PS_SENDER_ADDR "/24", "dev", PS_VETH_SENDER, NULL };
	const char *const up[] = { "ip", "link", "set", PS_VETH_SENDER, "up", NULL };
	/* a permanent neighbour: no ARP, so no packet waits on (or is lost to) a resolution */
	const char *const neigh[] = { "ip", "neigh", "replace", PS_RECEIVER_ADDR, "lladdr", PS_MAC_CASE, "dev",
				      PS_VETH_SENDER, "nud", "permanent", NULL };
	return ps_run_ip(addr) || ps_run_ip(up) || ps_run_ip(neigh) ? -1 : 0;
}
