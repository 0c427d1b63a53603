// SPDX-License-Identifier: GPL-2.0
/*
 * gapbench_upcall: a ULS-style upcall. The kernel returns to user mode in a
 * registered handler on a registered sandbox stack by rewriting the thread's
 * saved user registers (its pt_regs) on the way out: out of GBUP_IOC_TRIGGER,
 * or, for the timer, out of whatever the thread was doing when the timer's
 * task_work ran at its next return to user mode. The interrupted registers
 * stay here; GBUP_IOC_RETURN puts them back. No signal is sent and nothing is
 * written to any user stack. /sys/module/gapbench_upcall/parameters/
 * registrations counts registered handlers; a registration goes with its file
 * (closing it, or the process dying).
 */
#include <linux/atomic.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/uaccess.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include "gapbench_upcall.h"

static atomic_t gbup_registrations = ATOMIC_INIT(0);

struct gbup_reg {
	spinlock_t lock;               /* everything below; taken from the timer (hardirq) */
	refcount_t refs;               /* the file's, and one per queued task_work */
	struct task_struct *task;      /* the registered thread, referenced */
	u64 handler, stack_top, cookie;
	bool registered;
	bool in_upcall;                /* saved holds an interrupted context */
	bool queued;                   /* twork is on task's task_work list */
	struct pt_regs saved;
	struct gbup_stats stats;
	struct hrtimer timer;
	u64 period_ns, left, timer_seq;
	u64 tw_arg, tw_tsc;            /* the queued timer upcall's arguments */
	struct callback_head twork;
};

static void gbup_put(struct gbup_reg *r)
{
	if (refcount_dec_and_test(&r->refs))
		kfree(r);
}

/* Under r->lock, in the registered thread: leave the kernel in the handler. */
static void gbup_enter(struct gbup_reg *r, struct pt_regs *regs, u64 arg, u64 tsc, u64 src)
{
	r->saved = *regs;
	regs->ip = r->handler;
	regs->sp = r->stack_top - 8;   /* as if called: (%rsp + 8) is 16-byte aligned */
	regs->di = arg;
	regs->si = tsc;
	regs->dx = src;
	regs->cx = r->cookie;
	regs->flags &= ~(X86_EFLAGS_DF | X86_EFLAGS_TF | X86_EFLAGS_AC | X86_EFLAGS_RF);
	r->in_upcall = true;
	r->stats.delivered++;
}

/* task_work of the timer: runs in the registered thread on its way to user mode. */
static void gbup_twork_fn(struct callback_head *cb)
{
	struct gbup_reg *r = container_of(cb, struct gbup_reg, twork);
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long irqf;

	spin_lock_irqsave(&r->lock, irqf);
	r->queued = false;
	if (r->registered && r->task == current && !(current->flags & PF_EXITING) &&
	    !r->in_upcall && user_mode(regs))
		gbup_enter(r, regs, r->tw_arg, r->tw_tsc, GBUP_SRC_TIMER);
	else
		r->stats.missed++;
	spin_unlock_irqrestore(&r->lock, irqf);
	gbup_put(r);
	module_put(THIS_MODULE);
}

static enum hrtimer_restart gbup_timer_fn(struct hrtimer *t)
{
	struct gbup_reg *r = container_of(t, struct gbup_reg, timer);
	u64 tsc = rdtsc_ordered();
	bool again;

	spin_lock(&r->lock);
	r->stats.timer_fired++;
	r->timer_seq++;
	if (!r->registered || r->in_upcall || r->queued) {
		r->stats.missed++;
	} else {
		r->queued = true;
		r->tw_arg = r->timer_seq;
		r->tw_tsc = tsc;
		refcount_inc(&r->refs);
		__module_get(THIS_MODULE);
		init_task_work(&r->twork, gbup_twork_fn);
		if (task_work_add(r->task, &r->twork, TWA_RESUME)) {
			/* the thread is exiting; the file still holds a reference */
			r->queued = false;
			refcount_dec(&r->refs);
			module_put(THIS_MODULE);
			r->stats.missed++;
		}
	}
	again = r->registered && r->period_ns && (r->left == 0 || --r->left > 0);
	if (again)
		hrtimer_forward_now(t, ns_to_ktime(r->period_ns));
	spin_unlock(&r->lock);
	return again ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

static int gbup_open(struct inode *inode, struct file *f)
{
	struct gbup_reg *r = kzalloc(sizeof(*r), GFP_KERNEL);

	if (!r)
		return -ENOMEM;
	spin_lock_init(&r->lock);
	refcount_set(&r->refs, 1);
	hrtimer_init(&r->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	r->timer.function = gbup_timer_fn;
	f->private_data = r;
	return nonseekable_open(inode, f);
}

/* Stops the timer and forgets the registration; the caller holds no lock. */
static void gbup_unregister(struct gbup_reg *r)
{
	struct task_struct *task = NULL;
	bool was;

	hrtimer_cancel(&r->timer);
	spin_lock_irq(&r->lock);
	was = r->registered;
	r->registered = false;
	r->in_upcall = false;
	r->period_ns = 0;
	if (was) {
		task = r->task;
		r->task = NULL;
	}
	spin_unlock_irq(&r->lock);
	if (task)
		put_task_struct(task);
	if (was)
		atomic_dec(&gbup_registrations);
}

static int gbup_release(struct inode *inode, struct file *f)
{
	struct gbup_reg *r = f->private_data;

	gbup_unregister(r);
	gbup_put(r);
	return 0;
}

static long gbup_register(struct gbup_reg *r, void __user *up)
{
	struct gbup_register a;

	if (copy_from_user(&a, up, sizeof(a)))
		return -EFAULT;
	if (a.flags || !a.handler || !access_ok((void __user *)(uintptr_t)a.handler, 1))
		return -EINVAL;
	if (a.stack_base % 16 || a.stack_size % 16 || a.stack_size < GBUP_STACK_MIN ||
	    a.stack_size > GBUP_STACK_MAX || a.stack_base + a.stack_size < a.stack_base ||
	    !access_ok((void __user *)(uintptr_t)a.stack_base, a.stack_size))
		return -EINVAL;
	if (in_compat_syscall())
		return -EOPNOTSUPP;
	spin_lock_irq(&r->lock);
	if (r->registered) {
		spin_unlock_irq(&r->lock);
		return -EBUSY;
	}
	r->handler = a.handler;
	r->stack_top = a.stack_base + a.stack_size;
	r->cookie = a.cookie;
	r->task = get_task_struct(current);
	r->registered = true;
	memset(&r->stats, 0, sizeof(r->stats));
	spin_unlock_irq(&r->lock);
	atomic_inc(&gbup_registrations);
	return 0;
}

/*
 * Takes r->lock when the registered thread calls and the upcall state is
 * `want_in_upcall`; else an errno, unlocked: not registered, another thread,
 * or the wrong state (busy: EBUSY; not in an upcall: EINVAL).
 */
static long gbup_lock_owner(struct gbup_reg *r, bool want_in_upcall)
{
	long err = 0;

	spin_lock_irq(&r->lock);
	if (!r->registered)
		err = -ENOENT;
	else if (r->task != current)
		err = -EPERM;
	else if (r->in_upcall != want_in_upcall)
		err = want_in_upcall ? -EINVAL : -EBUSY;
	if (err)
		spin_unlock_irq(&r->lock);
	return err;
}

static long gbup_trigger(struct gbup_reg *r, void __user *up, u64 tsc)
{
	struct pt_regs *regs = task_pt_regs(current);
	u64 arg;
	long err;

	if (copy_from_user(&arg, up, sizeof(arg)))
		return -EFAULT;
	err = gbup_lock_owner(r, false);
	if (err)
		return err;
	gbup_enter(r, regs, arg, tsc, GBUP_SRC_IOCTL);
	r->saved.ax = 0;          /* what this ioctl returns when the context resumes */
	r->saved.orig_ax = -1;
	spin_unlock_irq(&r->lock);
	return 0;                 /* lands in the handler's %rax, which it ignores */
}

static long gbup_return(struct gbup_reg *r)
{
	struct pt_regs *regs = task_pt_regs(current);
	long ax = gbup_lock_owner(r, true);

	if (ax)
		return ax;
	*regs = r->saved;
	regs->orig_ax = -1;       /* not a system call: never restarted */
	ax = (long)r->saved.ax;   /* the syscall exit path stores our result in %rax */
	r->in_upcall = false;
	r->stats.returned++;
	spin_unlock_irq(&r->lock);
	return ax;
}

static long gbup_timer_set(struct gbup_reg *r, void __user *up)
{
	struct gbup_timer t;

	if (copy_from_user(&t, up, sizeof(t)))
		return -EFAULT;
	if (t.period_ns && t.period_ns < GBUP_TIMER_MIN_NS)
		return -EINVAL;
	if (!t.period_ns && t.count)
		return -EINVAL;
	hrtimer_cancel(&r->timer);
	spin_lock_irq(&r->lock);
	if (!r->registered) {
		spin_unlock_irq(&r->lock);
		return -ENOENT;
	}
	r->period_ns = t.period_ns;
	r->left = t.count;
	if (t.period_ns)
		hrtimer_start(&r->timer, ns_to_ktime(t.period_ns), HRTIMER_MODE_REL);
	spin_unlock_irq(&r->lock);
	return 0;
}

static long gbup_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	u64 tsc = rdtsc_ordered();
	struct gbup_reg *r = f->private_data;
	void __user *up = (void __user *)arg;

	switch (cmd) {
	case GBUP_IOC_REGISTER:
		return gbup_register(r, up);
	case GBUP_IOC_UNREGISTER: {
		bool busy, reg;

		spin_lock_irq(&r->lock);
		reg = r->registered;
		busy = r->in_upcall;
		spin_unlock_irq(&r->lock);
		if (!reg)
			return -ENOENT;
		if (busy)
			return -EBUSY;
		gbup_unregister(r);
		return 0;
	}
	case GBUP_IOC_TRIGGER:
		return gbup_trigger(r, up, tsc);
	case GBUP_IOC_RETURN:
		return gbup_return(r);
	case GBUP_IOC_TIMER:
		return gbup_timer_set(r, up);
	case GBUP_IOC_STATS: {
		struct gbup_stats st;

		spin_lock_irq(&r->lock);
		st = r->stats;
		spin_unlock_irq(&r->lock);
		return copy_to_user(up, &st, sizeof(st)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_operations gbup_fops = {
	.owner = THIS_MODULE,
	.open = gbup_open,
	.release = gbup_release,
	.unlocked_ioctl = gbup_ioctl,
	.llseek = no_llseek,
};

static struct miscdevice gbup_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "gapbench_upcall",
	.fops = &gbup_fops,
	.mode = 0666,
};

static int gbup_get_registrations(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&gbup_registrations));
}

static const struct kernel_param_ops gbup_registrations_ops = { .get = gbup_get_registrations };
module_param_cb(registrations, &gbup_registrations_ops, NULL, 0444);
MODULE_PARM_DESC(registrations, "registered handlers (read-only)");

static int __init gbup_init(void)
{
	return misc_register(&gbup_misc);
}

static void __exit gbup_exit(void)
{
	misc_deregister(&gbup_misc);
}

module_init(gbup_init);
module_exit(gbup_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gapbench: ULS-style upcalls into a sandboxed handler, without a signal frame");
