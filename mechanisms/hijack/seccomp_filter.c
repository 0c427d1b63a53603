/* The cookie-matching seccomp filter (classic BPF over struct seccomp_data). */
#include "seccomp_filter.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guest.h"

#define ARG5_LO offsetof(struct seccomp_data, args[5])
#define ARG5_HI (offsetof(struct seccomp_data, args[5]) + 4)
#define IP_LO offsetof(struct seccomp_data, instruction_pointer)
#define IP_HI (offsetof(struct seccomp_data, instruction_pointer) + 4)

int hj_seccomp_install(unsigned action)
{
	const unsigned long cookie = (unsigned long)HJ_COOKIE;
	/* seccomp_data.instruction_pointer is the address after `syscall`: inside [begin, end) */
	const unsigned long ip_lo = (unsigned long)hj_guest_gate_begin;
	const unsigned long ip_hi = (unsigned long)hj_guest_gate_end;
	if ((ip_lo >> 32) != (ip_hi >> 32)) {   /* the range check below compares low words */
		errno = ERANGE;
		return -1;
	}
	struct sock_filter insns[] = {
		/* other architectures (x32, i386 entry) are never ours */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 11),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG5_LO),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(cookie & 0xffffffffu), 0, 9),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG5_HI),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(cookie >> 32), 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_HI),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)(ip_lo >> 32), 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_LO),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)(ip_lo & 0xffffffffu), 0, 3),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)(ip_hi & 0xffffffffu), 2, 0),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(insns) / sizeof(insns[0])), .filter = insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	unsigned flags = action == SECCOMP_RET_USER_NOTIF ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (r < 0)
		return -1;
	return action == SECCOMP_RET_USER_NOTIF ? (int)r : 0;
}
