// SPDX-License-Identifier: GPL-2.0
/*
 * gapbench_hijack: Hijack's system-call interposition as a module, without
 * touching the system-call table. While an executive has the device open, a
 * kprobe sits on x64_sys_call (the kernel's system-call dispatch, entered as
 * x64_sys_call(regs, nr) from do_syscall_64); it is ftrace-based, so its
 * handler may change where the call goes. For an attached process and a
 * chosen number it sends the dispatch to gbhj_divert() instead, which has the
 * same signature and runs as an ordinary, sleeping system call: it holds the
 * call for the executive and returns the reply (EMULATE, BLOCK), or runs the
 * call itself by entering x64_sys_call past its ftrace call site (PASS, so
 * the kprobe does not see it twice). A sched_process_exit tracepoint detaches
 * a process that ends. /sys/module/gapbench_hijack/parameters/registrations
 * counts attached processes.
 */
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/ftrace.h>
#include <asm/msr.h>
#include <asm/unistd.h>
#include "gapbench_hijack.h"

static_assert(NR_syscalls <= GBHJ_NR_MAX);

enum { HELD_PENDING, HELD_SERVED, HELD_DONE };

struct gbhj_session {
	spinlock_t lock;               /* lists, held states, stats, closed */
	struct kref kref;              /* the file's, and one per call in gbhj_divert */
	wait_queue_head_t rq;          /* the executive waits for calls */
	wait_queue_head_t done;        /* held calls wait for their reply */
	struct list_head pending;      /* held, not yet read by the executive */
	struct list_head served;       /* read, waiting for a reply */
	DECLARE_BITMAP(mask, GBHJ_NR_MAX);
	u64 next_id;
	bool closed;
	struct gbhj_stats st;
};

/* A held call: lives on the held thread's kernel stack, on one of its session's lists. */
struct gbhj_held {
	struct list_head node;
	struct gbhj_call call;
	int state;
	u32 action;
	s64 value;
};

struct gbhj_target {
	struct pid *tgid;              /* NULL: free slot */
	struct gbhj_session *s;
};

/* Read locklessly by the kprobe handler; sessions are freed after synchronize_rcu(). */
static struct gbhj_target gbhj_targets[GBHJ_TARGETS_MAX];
static DEFINE_SPINLOCK(gbhj_targets_lock);
static atomic_t gbhj_ntargets = ATOMIC_INIT(0);

static DEFINE_MUTEX(gbhj_arm_lock);    /* the kprobe and tracepoint, armed while a session exists */
static unsigned gbhj_sessions;
static struct kprobe gbhj_kp;
static struct tracepoint *gbhj_exit_tp;
static long (*gbhj_orig)(const struct pt_regs *regs, unsigned int nr);

static void gbhj_session_free(struct kref *k)
{
	kfree(container_of(k, struct gbhj_session, kref));
}

/* The executive's session of the calling process, referenced, or NULL. */
static struct gbhj_session *gbhj_session_of(struct pid *tgid)
{
	struct gbhj_session *s = NULL;
	unsigned i;

	spin_lock(&gbhj_targets_lock);
	for (i = 0; i < GBHJ_TARGETS_MAX; i++)
		if (gbhj_targets[i].tgid == tgid) {
			s = gbhj_targets[i].s;
			kref_get(&s->kref);
			break;
		}
	spin_unlock(&gbhj_targets_lock);
	return s;
}

static long gbhj_divert(const struct pt_regs *uregs, unsigned int nr)
{
	struct gbhj_session *s;
	struct gbhj_held h = { .state = HELD_PENDING };
	long ret;
	int err;

	/* the kprobe handler took a module reference for us: this code stays until we return */
	s = gbhj_session_of(task_tgid(current));
	if (!s) {
		ret = gbhj_orig(uregs, nr);
		goto out;
	}
	h.call.pid = pid_nr(task_tgid(current));
	h.call.tid = task_pid_nr(current);
	h.call.nr = nr;
	h.call.args[0] = uregs->di;
	h.call.args[1] = uregs->si;
	h.call.args[2] = uregs->dx;
	h.call.args[3] = uregs->r10;
	h.call.args[4] = uregs->r8;
	h.call.args[5] = uregs->r9;
	h.call.tsc = rdtsc_ordered();
	spin_lock(&s->lock);
	if (s->closed) {
		spin_unlock(&s->lock);
		ret = gbhj_orig(uregs, nr);
		goto put;
	}
	h.call.id = ++s->next_id;
	list_add_tail(&h.node, &s->pending);
	s->st.held++;
	spin_unlock(&s->lock);
	wake_up_interruptible(&s->rq);

	err = wait_event_killable(s->done, smp_load_acquire(&h.state) == HELD_DONE);
	spin_lock(&s->lock);
	if (h.state != HELD_DONE) {
		list_del(&h.node);
		s->st.interrupted++;
		spin_unlock(&s->lock);
		ret = -EINTR;  /* a fatal signal: the process ends here */
		goto put;
	}
	spin_unlock(&s->lock);
	switch (h.action) {
	case GBHJ_EMULATE:
		ret = h.value;
		break;
	case GBHJ_BLOCK:
		ret = h.value ? -h.value : -EPERM;
		break;
	default:
		ret = gbhj_orig(uregs, nr);
		break;
	}
put:
	kref_put(&s->kref, gbhj_session_free);
out:
	module_put(THIS_MODULE);
	return ret;
}

/* kprobe at x64_sys_call(regs, nr): %rsi is nr. Preemption is off; no sleeping here. */
static int gbhj_pre(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long nr = regs->si;
	struct pid *me;
	unsigned i;

	if (likely(!atomic_read(&gbhj_ntargets)) || nr >= GBHJ_NR_MAX)
		return 0;
	me = task_tgid(current);
	for (i = 0; i < GBHJ_TARGETS_MAX; i++) {
		struct gbhj_session *s;

		if (READ_ONCE(gbhj_targets[i].tgid) != me)
			continue;
		s = READ_ONCE(gbhj_targets[i].s);
		if (!s || !test_bit(nr, s->mask) || !try_module_get(THIS_MODULE))
			return 0;
		instruction_pointer_set(regs, (unsigned long)gbhj_divert);
		return 1;    /* we changed the ip: kprobes leaves it */
	}
	return 0;
}

/* Never called for a diverted call; its presence makes the kprobe ftrace IPMODIFY. */
static void gbhj_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

/* Under gbhj_targets_lock. */
static void gbhj_target_clear(struct gbhj_target *t)
{
	struct pid *pid = t->tgid;

	WRITE_ONCE(t->tgid, NULL);
	WRITE_ONCE(t->s, NULL);
	put_pid(pid);
	atomic_dec(&gbhj_ntargets);
}

/* sched_process_exit: the last thread of a process leaves, its slot goes. */
static void gbhj_exit_probe(void *data, struct task_struct *p)
{
	struct pid *tg;
	unsigned i;

	if (likely(!atomic_read(&gbhj_ntargets)) || atomic_read(&p->signal->live))
		return;
	tg = task_tgid(p);
	spin_lock(&gbhj_targets_lock);
	for (i = 0; i < GBHJ_TARGETS_MAX; i++)
		if (gbhj_targets[i].tgid == tg)
			gbhj_target_clear(&gbhj_targets[i]);
	spin_unlock(&gbhj_targets_lock);
}

static void gbhj_find_exit_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sched_process_exit"))
		*(struct tracepoint **)priv = tp;
}

static int gbhj_arm(void)
{
	int err = 0;

	mutex_lock(&gbhj_arm_lock);
	if (gbhj_sessions > 0)
		goto done;
	memset(&gbhj_kp, 0, sizeof(gbhj_kp));
	gbhj_kp.symbol_name = "x64_sys_call";
	gbhj_kp.pre_handler = gbhj_pre;
	gbhj_kp.post_handler = gbhj_post;
	err = register_kprobe(&gbhj_kp);
	if (err) {
		pr_info("gapbench_hijack: kprobe on x64_sys_call: error %d\n", err);
		goto out;
	}
	if (!(gbhj_kp.flags & KPROBE_FLAG_FTRACE)) {
		/* an int3 kprobe cannot move the call elsewhere safely */
		pr_info("gapbench_hijack: the kprobe on x64_sys_call is not ftrace-based\n");
		unregister_kprobe(&gbhj_kp);
		err = -EOPNOTSUPP;
		goto out;
	}
	gbhj_orig = (void *)((unsigned long)gbhj_kp.addr + MCOUNT_INSN_SIZE);
	if (!gbhj_exit_tp)
		for_each_kernel_tracepoint(gbhj_find_exit_tp, &gbhj_exit_tp);
	err = gbhj_exit_tp ? tracepoint_probe_register(gbhj_exit_tp, (void *)gbhj_exit_probe, NULL) : -ENOENT;
	if (err) {
		pr_info("gapbench_hijack: tracepoint sched_process_exit: error %d\n", err);
		unregister_kprobe(&gbhj_kp);
		goto out;
	}
done:
	gbhj_sessions++;
out:
	mutex_unlock(&gbhj_arm_lock);
	return err;
}

static void gbhj_disarm(void)
{
	mutex_lock(&gbhj_arm_lock);
	if (--gbhj_sessions == 0) {
		tracepoint_probe_unregister(gbhj_exit_tp, (void *)gbhj_exit_probe, NULL);
		unregister_kprobe(&gbhj_kp);
		tracepoint_synchronize_unregister();
	}
	mutex_unlock(&gbhj_arm_lock);
}

static int gbhj_open(struct inode *inode, struct file *f)
{
	struct gbhj_session *s = kzalloc(sizeof(*s), GFP_KERNEL);
	int err;

	if (!s)
		return -ENOMEM;
	spin_lock_init(&s->lock);
	kref_init(&s->kref);
	init_waitqueue_head(&s->rq);
	init_waitqueue_head(&s->done);
	INIT_LIST_HEAD(&s->pending);
	INIT_LIST_HEAD(&s->served);
	err = gbhj_arm();
	if (err) {
		kfree(s);
		return err;
	}
	f->private_data = s;
	return nonseekable_open(inode, f);
}

static void gbhj_finish_all(struct gbhj_session *s, struct list_head *list)
{
	struct gbhj_held *h, *n;

	list_for_each_entry_safe(h, n, list, node) {
		list_del_init(&h->node);
		h->action = GBHJ_PASS;
		smp_store_release(&h->state, HELD_DONE);
	}
}

static int gbhj_release(struct inode *inode, struct file *f)
{
	struct gbhj_session *s = f->private_data;
	unsigned i;

	spin_lock(&gbhj_targets_lock);
	for (i = 0; i < GBHJ_TARGETS_MAX; i++)
		if (gbhj_targets[i].tgid && gbhj_targets[i].s == s)
			gbhj_target_clear(&gbhj_targets[i]);
	spin_unlock(&gbhj_targets_lock);
	spin_lock(&s->lock);
	s->closed = true;
	gbhj_finish_all(s, &s->pending);
	gbhj_finish_all(s, &s->served);
	spin_unlock(&s->lock);
	wake_up_all(&s->done);
	synchronize_rcu();   /* kprobe handlers that saw s in the table are done */
	gbhj_disarm();
	kref_put(&s->kref, gbhj_session_free);
	return 0;
}

/* ATTACH's and DETACH's argument: the process's struct pid, referenced, in *pid; or an errno. */
static long gbhj_attach_arg(void __user *up, struct pid **pid)
{
	struct gbhj_attach a;

	if (copy_from_user(&a, up, sizeof(a)))
		return -EFAULT;
	if (a.flags || a.pid <= 0)
		return -EINVAL;
	*pid = find_get_pid(a.pid);
	return *pid ? 0 : -ESRCH;
}

static long gbhj_attach(struct gbhj_session *s, void __user *up)
{
	struct task_struct *task;
	struct pid *pid;
	unsigned i, free_slot = GBHJ_TARGETS_MAX;
	long err = gbhj_attach_arg(up, &pid);

	if (err)
		return err;
	task = get_pid_task(pid, PIDTYPE_TGID);
	if (!task) {
		put_pid(pid);
		return -ESRCH;   /* no such process (or a thread id, not a process id) */
	}
	if (pid == task_tgid(current))
		err = -EINVAL;   /* the executive cannot serve its own calls */
	else if (!uid_eq(task_uid(task), current_euid()) && !capable(CAP_SYS_PTRACE))
		err = -EPERM;
	if (err)
		goto out;
	spin_lock(&gbhj_targets_lock);
	for (i = 0; i < GBHJ_TARGETS_MAX; i++) {
		if (gbhj_targets[i].tgid == pid) {
			err = -EBUSY;
			break;
		}
		if (!gbhj_targets[i].tgid && free_slot == GBHJ_TARGETS_MAX)
			free_slot = i;
	}
	if (!err && free_slot == GBHJ_TARGETS_MAX)
		err = -ENOSPC;
	/* a process whose last thread already passed sched_process_exit would stay forever */
	if (!err && !atomic_read(&task->signal->live))
		err = -ESRCH;
	if (!err) {
		WRITE_ONCE(gbhj_targets[free_slot].s, s);
		smp_wmb();
		WRITE_ONCE(gbhj_targets[free_slot].tgid, get_pid(pid));
		atomic_inc(&gbhj_ntargets);
	}
	spin_unlock(&gbhj_targets_lock);
out:
	put_task_struct(task);
	put_pid(pid);
	return err;
}

static long gbhj_detach(struct gbhj_session *s, void __user *up)
{
	struct pid *pid;
	unsigned i;
	long err = gbhj_attach_arg(up, &pid);

	if (err)
		return err;
	err = -ENOENT;
	spin_lock(&gbhj_targets_lock);
	for (i = 0; i < GBHJ_TARGETS_MAX; i++)
		if (gbhj_targets[i].tgid == pid && gbhj_targets[i].s == s) {
			gbhj_target_clear(&gbhj_targets[i]);
			err = 0;
		}
	spin_unlock(&gbhj_targets_lock);
	put_pid(pid);
	return err;
}

static long gbhj_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct gbhj_session *s = f->private_data;
	void __user *up = (void __user *)arg;

	switch (cmd) {
	case GBHJ_IOC_SET_SYSCALLS: {
		struct gbhj_syscalls m;
		unsigned nr;

		if (copy_from_user(&m, up, sizeof(m)))
			return -EFAULT;
		for (nr = NR_syscalls; nr < GBHJ_NR_MAX; nr++)
			if (m.mask[nr / 64] & (1ull << (nr % 64)))
				return -EINVAL;
		spin_lock(&s->lock);
		for (nr = 0; nr < GBHJ_NR_MAX; nr++)
			assign_bit(nr, s->mask, m.mask[nr / 64] & (1ull << (nr % 64)));
		spin_unlock(&s->lock);
		return 0;
	}
	case GBHJ_IOC_ATTACH:
		return gbhj_attach(s, up);
	case GBHJ_IOC_DETACH:
		return gbhj_detach(s, up);
	case GBHJ_IOC_STATS: {
		struct gbhj_stats st;
		unsigned i;

		spin_lock(&s->lock);
		st = s->st;
		spin_unlock(&s->lock);
		st.targets = 0;
		spin_lock(&gbhj_targets_lock);
		for (i = 0; i < GBHJ_TARGETS_MAX; i++)
			st.targets += gbhj_targets[i].tgid && gbhj_targets[i].s == s;
		spin_unlock(&gbhj_targets_lock);
		return copy_to_user(up, &st, sizeof(st)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static ssize_t gbhj_read(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	struct gbhj_session *s = f->private_data;
	struct gbhj_held *h;
	struct gbhj_call call;
	int err;

	if (len < sizeof(call))
		return -EINVAL;
	for (;;) {
		spin_lock(&s->lock);
		if (!list_empty(&s->pending))
			break;
		spin_unlock(&s->lock);
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(s->rq, !list_empty_careful(&s->pending));
		if (err)
			return err;
	}
	h = list_first_entry(&s->pending, struct gbhj_held, node);
	list_move_tail(&h->node, &s->served);
	h->state = HELD_SERVED;
	call = h->call;   /* h may go (its thread killed) once the lock drops */
	spin_unlock(&s->lock);
	if (copy_to_user(buf, &call, sizeof(call))) {
		spin_lock(&s->lock);
		list_for_each_entry(h, &s->served, node)
			if (h->call.id == call.id) {
				list_move(&h->node, &s->pending);
				h->state = HELD_PENDING;
				break;
			}
		spin_unlock(&s->lock);
		return -EFAULT;
	}
	return sizeof(call);
}

static ssize_t gbhj_write(struct file *f, const char __user *buf, size_t len, loff_t *pos)
{
	struct gbhj_session *s = f->private_data;
	struct gbhj_reply r;
	struct gbhj_held *h;
	long err = -ENOENT;

	if (len != sizeof(r))
		return -EINVAL;
	if (copy_from_user(&r, buf, sizeof(r)))
		return -EFAULT;
	if (r.pad || r.action > GBHJ_BLOCK || (r.action == GBHJ_BLOCK && (r.value < 0 || r.value > 4095)))
		return -EINVAL;
	spin_lock(&s->lock);
	list_for_each_entry(h, &s->served, node) {
		if (h->call.id != r.id)
			continue;
		list_del_init(&h->node);
		h->action = r.action;
		h->value = r.value;
		smp_store_release(&h->state, HELD_DONE);
		if (r.action == GBHJ_EMULATE)
			s->st.emulated++;
		else if (r.action == GBHJ_BLOCK)
			s->st.blocked++;
		else
			s->st.passed++;
		err = 0;
		break;
	}
	spin_unlock(&s->lock);
	if (err)
		return err;
	wake_up_all(&s->done);
	return sizeof(r);
}

static __poll_t gbhj_poll(struct file *f, poll_table *pt)
{
	struct gbhj_session *s = f->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(f, &s->rq, pt);
	spin_lock(&s->lock);
	if (!list_empty(&s->pending))
		mask |= EPOLLIN | EPOLLRDNORM;
	spin_unlock(&s->lock);
	return mask;
}

static const struct file_operations gbhj_fops = {
	.owner = THIS_MODULE,
	.open = gbhj_open,
	.release = gbhj_release,
	.unlocked_ioctl = gbhj_ioctl,
	.read = gbhj_read,
	.write = gbhj_write,
	.poll = gbhj_poll,
	.llseek = no_llseek,
};

static struct miscdevice gbhj_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gapbench_hijack",
	.fops = &gbhj_fops,
	.mode = 0600,
};

static int gbhj_get_registrations(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&gbhj_ntargets));
}

static const struct kernel_param_ops gbhj_registrations_ops = { .get = gbhj_get_registrations };
module_param_cb(registrations, &gbhj_registrations_ops, NULL, 0444);
MODULE_PARM_DESC(registrations, "attached processes (read-only)");

static int __init gbhj_init(void)
{
	return misc_register(&gbhj_misc);
}

static void __exit gbhj_exit(void)
{
	misc_deregister(&gbhj_misc);
}

module_init(gbhj_init);
module_exit(gbhj_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gapbench: Hijack's system-call interposition (kprobe on x64_sys_call, no table patching)");
