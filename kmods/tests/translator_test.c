/*
 * In-guest test of gapbench_translator (/dev/translator).
 *   translator-test badioctl   every wrong call gets its errno
 *   translator-test order [N]  N messages (default 10^5) each way at once, in order
 *   translator-test hold       a channel open until killed (the SIGKILL test)
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gapbench_translator.h"
#include "kcheck.h"

#define MOD "gapbench_translator"

static void badioctl(void)
{
	struct gbtr_info info;
	uint32_t depth = 0;
	char buf[GBTR_MSG_MAX + 8] = "x";
	int fd = open(GBTR_DEV, O_RDWR), peer;

	KCHECK(fd >= 0);
	kexpect_errno("unknown command", ioctl(fd, _IO(GBTR_IOC_MAGIC, 0x7f)), ENOTTY);
	kexpect_errno("another module's magic", ioctl(fd, _IOR(0x42, 0x02, struct gbtr_info), &info), ENOTTY);
	kexpect_errno("INFO with a wrong size", ioctl(fd, _IOR(GBTR_IOC_MAGIC, 0x02, uint32_t), &depth), ENOTTY);
	kexpect_errno("INFO with a wrong direction", ioctl(fd, _IOW(GBTR_IOC_MAGIC, 0x02, struct gbtr_info), &info), ENOTTY);
	kexpect_errno("SET_DEPTH with a wrong size", ioctl(fd, _IOW(GBTR_IOC_MAGIC, 0x03, uint64_t), &depth), ENOTTY);
	kexpect_errno("INFO to NULL", ioctl(fd, GBTR_IOC_INFO, NULL), EFAULT);
	kexpect_errno("INFO to a kernel address", ioctl(fd, GBTR_IOC_INFO, (void *)0xffffffff81000000ul), EFAULT);
	kexpect_errno("SET_DEPTH from NULL", ioctl(fd, GBTR_IOC_SET_DEPTH, NULL), EFAULT);
	depth = 0;
	kexpect_errno("SET_DEPTH 0", ioctl(fd, GBTR_IOC_SET_DEPTH, &depth), EINVAL);
	depth = GBTR_SLOTS + 1;
	kexpect_errno("SET_DEPTH slots+1", ioctl(fd, GBTR_IOC_SET_DEPTH, &depth), EINVAL);
	kexpect_errno("write 0 bytes", write(fd, buf, 0), EINVAL);
	kexpect_errno("write msg_max+1 bytes", write(fd, buf, GBTR_MSG_MAX + 1), EINVAL);
	kexpect_errno("mmap writable", (long)(mmap(NULL, GBTR_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
						== MAP_FAILED ? -1 : 0), EPERM);
	kexpect_errno("mmap past the rings", (long)(mmap(NULL, 2 * GBTR_MAP_BYTES, PROT_READ, MAP_SHARED, fd, 0)
						== MAP_FAILED ? -1 : 0), EINVAL);
	kexpect_errno("mmap at an offset", (long)(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096)
						== MAP_FAILED ? -1 : 0), EINVAL);
	kexpect_errno("write before the peer exists", write(fd, buf, 1), ENOTCONN);
	kexpect_errno("read before the peer exists", read(fd, buf, sizeof(buf)), ENOTCONN);
	peer = (int)ioctl(fd, GBTR_IOC_PEER);
	KCHECK(peer >= 0);
	kexpect_errno("PEER twice", ioctl(fd, GBTR_IOC_PEER), EBUSY);
	kexpect_errno("PEER on the peer", ioctl(peer, GBTR_IOC_PEER), EINVAL);
	kexpect_errno("write from a bad pointer", write(fd, kbad_ptr(8), 10), EFAULT);
	KCHECK(write(fd, "hello", 5) == 5);
	kexpect_errno("read into a short buffer", read(peer, buf, 4), EINVAL);
	kexpect_errno("read into a bad pointer", read(peer, kbad_ptr(8), sizeof(buf)), EFAULT);
	KCHECK(read(peer, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0);
	KCHECK(fcntl(peer, F_SETFL, O_NONBLOCK) == 0);
	kexpect_errno("read nothing, O_NONBLOCK", read(peer, buf, sizeof(buf)), EAGAIN);
	KCHECK(kregistrations(MOD) == 1);
	close(fd);
	KCHECK(read(peer, buf, sizeof(buf)) == 0);   /* the other end closed: end of file */
	kexpect_errno("write after the other end closed", write(peer, buf, 1), EPIPE);
	close(peer);
	KCHECK(kregistrations(MOD) == 0);
	printf("badioctl: all rows ok, registrations 0 after close\n");
}

struct sender {
	int fd;
	long n;
	uint32_t tag;
};

static void *send_all(void *arg)
{
	struct sender *s = arg;
	uint32_t msg[4];

	for (long i = 0; i < s->n; i++) {
		msg[0] = s->tag;
		msg[1] = (uint32_t)i;
		msg[2] = (uint32_t)(i * 2654435761u);
		msg[3] = ~(uint32_t)i;
		if (write(s->fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
			perror("translator-test: write");
			exit(1);
		}
	}
	return NULL;
}

/* Receives n messages from the other side, checks order and payload; returns 0 when all right. */
static int recv_all(int fd, long n, uint32_t tag)
{
	uint32_t msg[GBTR_MSG_MAX / 4];

	for (long i = 0; i < n; i++) {
		ssize_t got = read(fd, msg, sizeof(msg));

		if (got != 16 || msg[0] != tag || msg[1] != (uint32_t)i || msg[2] != (uint32_t)(i * 2654435761u) ||
		    msg[3] != ~(uint32_t)i) {
			fprintf(stderr, "translator-test: message %ld of tag %x: got %zd bytes, tag %x seq %u\n", i, tag,
				got, msg[0], msg[1]);
			return 1;
		}
	}
	return 0;
}

static int side(int fd, long n, uint32_t send_tag, uint32_t recv_tag)
{
	struct sender s = { fd, n, send_tag };
	pthread_t t;
	int rc;

	KCHECK(pthread_create(&t, NULL, send_all, &s) == 0);
	rc = recv_all(fd, n, recv_tag);
	KCHECK(pthread_join(t, NULL) == 0);
	return rc;
}

static void order(long n)
{
	int fd = open(GBTR_DEV, O_RDWR), peer, status;
	struct gbtr_info info;
	const struct gbtr_ring *rings;
	pid_t child;

	KCHECK(fd >= 0);
	peer = (int)ioctl(fd, GBTR_IOC_PEER);
	KCHECK(peer >= 0);
	KCHECK(ioctl(peer, GBTR_IOC_INFO, &info) == 0 && info.endpoint == 1);
	rings = mmap(NULL, GBTR_MAP_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	KCHECK(rings != MAP_FAILED);
	child = fork();
	KCHECK(child >= 0);
	if (child == 0) {
		close(fd);
		_exit(side(peer, n, 0xB0B, 0xA11CE));
	}
	close(peer);
	KCHECK(side(fd, n, 0xA11CE, 0xB0B) == 0);
	KCHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the mapping shows the same rings: every message written and read, both ways */
	KCHECK(rings[0].head == (uint32_t)n && rings[0].tail == (uint32_t)n);
	KCHECK(rings[1].head == (uint32_t)n && rings[1].tail == (uint32_t)n);
	KCHECK(rings[0].slot[(n - 1) % GBTR_SLOTS].seq == (uint32_t)(n - 1));
	munmap((void *)rings, GBTR_MAP_BYTES);
	close(fd);
	KCHECK(kregistrations(MOD) == 0);
	printf("order: %ld messages each way, in order, rings agree; registrations 0\n", n);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "badioctl")) {
		badioctl();
	} else if (argc >= 2 && !strcmp(argv[1], "order")) {
		order(argc > 2 ? atol(argv[2]) : 100000);
	} else if (argc >= 2 && !strcmp(argv[1], "hold")) {
		int fd = open(GBTR_DEV, O_RDWR);

		KCHECK(fd >= 0 && ioctl(fd, GBTR_IOC_PEER) >= 0);
		printf("holding a channel\n");
		pause();
	} else {
		fprintf(stderr, "usage: translator-test badioctl|order [N]|hold\n");
		return 2;
	}
	return 0;
}
