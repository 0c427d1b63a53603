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
 *
 * GBUP_IOC_RETURN does not put the registers back inside the ioctl: the
 * system call's exit stores the ioctl's result in %rax after that, and
 * sys_ioctl's result is an int, so an interrupted %rax would come back cut to
 * its sign-extended low 32 bits (a timer upcall that interrupted libc between
 * loading a vDSO address into %rax and `call *%rax` resumed at that cut
 * address). The ioctl queues a task_work instead, which restores all the
 * registers on the way out, after the exit has written %rax.
 *
 * Lifetimes: each queued task_work holds a reference to the registration's
 * file, not to the module. The file's release (which frees the registration)
 * and the module_put of its owner then run only after the last task_work has
 * returned: fput() from a task_work never releases the file itself, it queues
 * the release as the next task_work (or, outside a task, on a workqueue), so
 * no module code runs once the module can go. The hrtimer is cancelled
 * (hrtimer_cancel waits for a running callback) before the release frees it.
 */
#include <linux/atomic.h>
#include <linux/compat.h>
#include <linux/errno.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/ptrace.h>
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
	struct file *file;             /* the open this is; each queued task_work holds a reference */
	struct task_struct *task;      /* the registered thread, referenced */
	u64 handler, stack_top, cookie;
	bool registered;
	bool in_upcall;                /* saved holds an interrupted context */
	bool queued;                   /* twork is on task's task_work list */
	bool resuming;                 /* rwork is on task's task_work list (in_upcall stays set) */
	struct pt_regs saved;
	struct gbup_stats stats;
	struct hrtimer timer;
	u64 period_ns, left, timer_seq;
	u64 tw_arg, tw_tsc;            /* the queued timer upcall's arguments */
	struct callback_head twork;    /* the timer's upcall */
	struct callback_head rwork;    /* GBUP_IOC_RETURN's restore */
};

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

/*
 * A system call's exit whose result asks the signal code to restart it (a
 * task_work may run inside get_signal(), before that code looks at these
 * registers): entering the handler here would restart "the call" at the
 * handler's address, and resume the caller with -ERESTART* in %rax.
 */
static bool gbup_restart_pending(const struct pt_regs *regs)
{
	long ret = (long)regs->ax;

	return (long)regs->orig_ax >= 0 && ret >= -ERESTART_RESTARTBLOCK && ret <= -ERESTARTSYS;
}

/*
 * task_work of the timer: runs in the registered thread on its way to user
 * mode (after a system call's exit has stored its result, or on the way out
 * of an interrupt or exception), so the registers here are the ones the
 * thread resumes with.
 */
static void gbup_twork_fn(struct callback_head *cb)
{
	struct gbup_reg *r = container_of(cb, struct gbup_reg, twork);
	struct file *file = r->file;
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long irqf;

	spin_lock_irqsave(&r->lock, irqf);
	r->queued = false;
	/* file_count 1: ours only, every descriptor is closed: the file is going */
	if (r->registered && r->task == current && !(current->flags & PF_EXITING) &&
	    !r->in_upcall && user_mode(regs) && file_count(file) > 1 && !gbup_restart_pending(regs)) {
		gbup_enter(r, regs, r->tw_arg, r->tw_tsc, GBUP_SRC_TIMER);
		regs->orig_ax = -1;    /* the handler is not in a system call: nothing to restart */
	} else {
		r->stats.missed++;
	}
	spin_unlock_irqrestore(&r->lock, irqf);
	fput(file);    /* the last reference? its release runs after we return (see the top) */
}

/* task_work of GBUP_IOC_RETURN: on the way out of that ioctl, after its result went to %rax. */
static void gbup_rwork_fn(struct callback_head *cb)
{
	struct gbup_reg *r = container_of(cb, struct gbup_reg, rwork);
	struct file *file = r->file;
	struct pt_regs *regs = task_pt_regs(current);
	unsigned long irqf;

	spin_lock_irqsave(&r->lock, irqf);
	if (r->resuming && r->in_upcall && r->registered && r->task == current) {
		*regs = r->saved;
		regs->orig_ax = -1;    /* not a system call: never restarted */
		r->in_upcall = false;
		r->stats.returned++;
	}
	r->resuming = false;
	spin_unlock_irqrestore(&r->lock, irqf);
	fput(file);
}

static enum hrtimer_restart gbup_timer_fn(struct hrtimer *t)
{
	struct gbup_reg *r = container_of(t, struct gbup_reg, timer);
	u64 tsc = rdtsc_ordered();
	bool again;

	spin_lock(&r->lock);
	r->stats.timer_fired++;
	r->timer_seq++;
	/* a file count of 0: its release is on the way (and will cancel this timer) */
	if (!r->registered || r->in_upcall || r->queued ||
	    !atomic_long_inc_not_zero(&r->file->f_count)) {
		r->stats.missed++;
	} else {
		r->queued = true;
		r->tw_arg = r->timer_seq;
		r->tw_tsc = tsc;
		init_task_work(&r->twork, gbup_twork_fn);
		if (task_work_add(r->task, &r->twork, TWA_RESUME)) {
			/* the thread is exiting; in hardirq fput() defers any release to a workqueue */
			r->queued = false;
			fput(r->file);
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
	r->file = f;
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
	kfree(r);    /* no task_work is queued: each would hold a reference to f */
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

/*
 * The registers go back in rwork, on this ioctl's way out: restored here, the
 * exit would then store this ioctl's result (an int: sys_ioctl's type) over
 * the interrupted %rax. The upcall stays in_upcall (no timer upcall is
 * queued) until rwork has run; it runs before the thread is in user mode again.
 */
static long gbup_return(struct gbup_reg *r)
{
	long err = gbup_lock_owner(r, true);

	if (err)
		return err;
	if (r->resuming) {
		spin_unlock_irq(&r->lock);
		return -EBUSY;
	}
	get_file(r->file);     /* our caller holds it: the count is not 0 */
	init_task_work(&r->rwork, gbup_rwork_fn);
	if (task_work_add(current, &r->rwork, TWA_RESUME)) {
		spin_unlock_irq(&r->lock);
		fput(r->file);
		return -ESRCH;     /* exiting: nothing will resume */
	}
	r->resuming = true;
	spin_unlock_irq(&r->lock);
	return 0;              /* in the handler's %rax, until rwork replaces every register */
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
