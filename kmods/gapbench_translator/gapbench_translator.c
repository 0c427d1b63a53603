// SPDX-License-Identifier: GPL-2.0
/*
 * gapbench_translator: /dev/translator, the Hijack^COS translator as a device.
 * A channel is two rings of fixed slots in vmalloc_user memory; endpoint 0 is
 * the file open() made, endpoint 1 the file GBTR_IOC_PEER returns. write()
 * copies one message into the ring towards the other endpoint and wakes it;
 * read() blocks until its ring has one. The module's "registrations"
 * parameter (/sys/module/gapbench_translator/parameters/registrations) is the
 * number of live channels: a channel goes when both its files are closed.
 */
#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include "gapbench_translator.h"

static_assert(sizeof(struct gbtr_ring) == GBTR_RING_BYTES);
static_assert(sizeof(struct gbtr_slot) == GBTR_SLOT_BYTES);

static atomic_t gbtr_channels = ATOMIC_INIT(0);

struct gbtr_channel {
	struct mutex lock;          /* ring indices and the slots they cover */
	wait_queue_head_t wq;       /* any change: a message, room, a closed end */
	struct gbtr_ring *ring[2];  /* into mem */
	void *mem;                  /* GBTR_MAP_BYTES, vmalloc_user */
	bool closed[2];
	bool peer_made;
	refcount_t refs;            /* one per endpoint file */
};

struct gbtr_end {
	struct gbtr_channel *ch;
	unsigned side;              /* sends on ring[side], reads ring[1 - side] */
};

static void gbtr_channel_put(struct gbtr_channel *ch)
{
	if (!refcount_dec_and_test(&ch->refs))
		return;
	vfree(ch->mem);
	kfree(ch);
	atomic_dec(&gbtr_channels);
}

static const struct file_operations gbtr_peer_fops;

static int gbtr_open(struct inode *inode, struct file *f)
{
	struct gbtr_channel *ch;
	struct gbtr_end *e;
	unsigned i;

	ch = kzalloc(sizeof(*ch), GFP_KERNEL);
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!ch || !e)
		goto nomem;
	ch->mem = vmalloc_user(GBTR_MAP_BYTES);
	if (!ch->mem)
		goto nomem;
	mutex_init(&ch->lock);
	init_waitqueue_head(&ch->wq);
	for (i = 0; i < 2; i++) {
		ch->ring[i] = (struct gbtr_ring *)((char *)ch->mem + i * GBTR_RING_BYTES);
		ch->ring[i]->depth = GBTR_SLOTS;
	}
	refcount_set(&ch->refs, 1);
	e->ch = ch;
	e->side = 0;
	f->private_data = e;
	atomic_inc(&gbtr_channels);
	return nonseekable_open(inode, f);
nomem:
	if (ch)
		vfree(ch->mem);
	kfree(ch);
	kfree(e);
	return -ENOMEM;
}

static int gbtr_release(struct inode *inode, struct file *f)
{
	struct gbtr_end *e = f->private_data;
	struct gbtr_channel *ch = e->ch;

	mutex_lock(&ch->lock);
	ch->closed[e->side] = true;
	mutex_unlock(&ch->lock);
	wake_up_all(&ch->wq);
	kfree(e);
	gbtr_channel_put(ch);
	return 0;
}

static long gbtr_make_peer(struct gbtr_end *e)
{
	struct gbtr_channel *ch = e->ch;
	struct gbtr_end *p;
	int fd;

	if (e->side != 0)
		return -EINVAL;
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	mutex_lock(&ch->lock);
	if (ch->peer_made) {
		mutex_unlock(&ch->lock);
		kfree(p);
		return -EBUSY;
	}
	ch->peer_made = true;
	refcount_inc(&ch->refs);
	mutex_unlock(&ch->lock);
	p->ch = ch;
	p->side = 1;
	fd = anon_inode_getfd("[translator]", &gbtr_peer_fops, p, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		mutex_lock(&ch->lock);
		ch->peer_made = false;
		mutex_unlock(&ch->lock);
		kfree(p);
		gbtr_channel_put(ch);
	}
	return fd;
}

static long gbtr_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct gbtr_end *e = f->private_data;
	void __user *up = (void __user *)arg;

	switch (cmd) {
	case GBTR_IOC_PEER:
		return gbtr_make_peer(e);
	case GBTR_IOC_INFO: {
		struct gbtr_info info = {
			.endpoint = e->side,
			.rx_offset = (1 - e->side) * GBTR_RING_BYTES,
			.tx_offset = e->side * GBTR_RING_BYTES,
			.slots = GBTR_SLOTS,
			.slot_bytes = GBTR_SLOT_BYTES,
			.msg_max = GBTR_MSG_MAX,
		};
		return copy_to_user(up, &info, sizeof(info)) ? -EFAULT : 0;
	}
	case GBTR_IOC_SET_DEPTH: {
		__u32 depth;

		if (copy_from_user(&depth, up, sizeof(depth)))
			return -EFAULT;
		if (depth < 1 || depth > GBTR_SLOTS)
			return -EINVAL;
		mutex_lock(&e->ch->lock);
		WRITE_ONCE(e->ch->ring[e->side]->depth, depth);
		mutex_unlock(&e->ch->lock);
		wake_up_all(&e->ch->wq);
		return 0;
	}
	default:
		return -ENOTTY;
	}
}

/* Under ch->lock: room on the ring this endpoint sends on, or the other end is gone. */
static bool gbtr_can_send(struct gbtr_end *e)
{
	struct gbtr_ring *r = e->ch->ring[e->side];

	return e->ch->closed[1 - e->side] || r->head - r->tail < r->depth;
}

static bool gbtr_can_recv(struct gbtr_end *e)
{
	struct gbtr_ring *r = e->ch->ring[1 - e->side];

	return e->ch->closed[1 - e->side] || r->head != r->tail;
}

static bool gbtr_locked_test(struct gbtr_end *e, bool (*test)(struct gbtr_end *))
{
	bool ok;

	mutex_lock(&e->ch->lock);
	ok = test(e);
	mutex_unlock(&e->ch->lock);
	return ok;
}

static ssize_t gbtr_write(struct file *f, const char __user *buf, size_t len, loff_t *pos)
{
	struct gbtr_end *e = f->private_data;
	struct gbtr_channel *ch = e->ch;
	struct gbtr_ring *r = ch->ring[e->side];
	struct gbtr_slot *s;
	int err;

	if (len < 1 || len > GBTR_MSG_MAX)
		return -EINVAL;
	for (;;) {
		mutex_lock(&ch->lock);
		if (!ch->peer_made) {
			mutex_unlock(&ch->lock);
			return -ENOTCONN;
		}
		if (ch->closed[1 - e->side]) {
			mutex_unlock(&ch->lock);
			return -EPIPE;
		}
		if (r->head - r->tail < r->depth)
			break;
		mutex_unlock(&ch->lock);
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(ch->wq, gbtr_locked_test(e, gbtr_can_send));
		if (err)
			return err;
	}
	s = &r->slot[r->head % GBTR_SLOTS];
	if (copy_from_user(s->data, buf, len)) {
		mutex_unlock(&ch->lock);
		return -EFAULT;
	}
	s->len = len;
	s->seq = r->head;
	smp_store_release(&r->head, r->head + 1);
	mutex_unlock(&ch->lock);
	wake_up_all(&ch->wq);
	return len;
}

static ssize_t gbtr_read(struct file *f, char __user *buf, size_t len, loff_t *pos)
{
	struct gbtr_end *e = f->private_data;
	struct gbtr_channel *ch = e->ch;
	struct gbtr_ring *r = ch->ring[1 - e->side];
	struct gbtr_slot *s;
	int err;

	for (;;) {
		mutex_lock(&ch->lock);
		if (!ch->peer_made) {
			mutex_unlock(&ch->lock);
			return -ENOTCONN;
		}
		if (r->head != r->tail)
			break;
		if (ch->closed[1 - e->side]) {
			mutex_unlock(&ch->lock);
			return 0;
		}
		mutex_unlock(&ch->lock);
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		err = wait_event_interruptible(ch->wq, gbtr_locked_test(e, gbtr_can_recv));
		if (err)
			return err;
	}
	s = &r->slot[r->tail % GBTR_SLOTS];
	if (len < s->len) {
		mutex_unlock(&ch->lock);
		return -EINVAL;
	}
	len = s->len;
	if (copy_to_user(buf, s->data, len)) {
		mutex_unlock(&ch->lock);
		return -EFAULT;
	}
	smp_store_release(&r->tail, r->tail + 1);
	mutex_unlock(&ch->lock);
	wake_up_all(&ch->wq);
	return len;
}

static __poll_t gbtr_poll(struct file *f, poll_table *pt)
{
	struct gbtr_end *e = f->private_data;
	struct gbtr_channel *ch = e->ch;
	__poll_t mask = 0;

	poll_wait(f, &ch->wq, pt);
	mutex_lock(&ch->lock);
	if (ch->ring[1 - e->side]->head != ch->ring[1 - e->side]->tail)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (ch->closed[1 - e->side])
		mask |= EPOLLHUP;
	else if (ch->ring[e->side]->head - ch->ring[e->side]->tail < ch->ring[e->side]->depth)
		mask |= EPOLLOUT | EPOLLWRNORM;
	mutex_unlock(&ch->lock);
	return mask;
}

static int gbtr_mmap(struct file *f, struct vm_area_struct *vma)
{
	struct gbtr_end *e = f->private_data;

	if (vma->vm_pgoff != 0 || vma->vm_end - vma->vm_start > GBTR_MAP_BYTES)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYWRITE;
	return remap_vmalloc_range(vma, e->ch->mem, 0);
}

#define GBTR_FOPS \
	.owner = THIS_MODULE, \
	.release = gbtr_release, \
	.unlocked_ioctl = gbtr_ioctl, \
	.compat_ioctl = compat_ptr_ioctl, \
	.read = gbtr_read, \
	.write = gbtr_write, \
	.poll = gbtr_poll, \
	.mmap = gbtr_mmap, \
	.llseek = no_llseek

static const struct file_operations gbtr_fops = { .open = gbtr_open, GBTR_FOPS };
static const struct file_operations gbtr_peer_fops = { GBTR_FOPS };

static struct miscdevice gbtr_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "translator",
	.fops = &gbtr_fops,
	.mode = 0666,
};

static int gbtr_get_registrations(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&gbtr_channels));
}

static const struct kernel_param_ops gbtr_registrations_ops = { .get = gbtr_get_registrations };
module_param_cb(registrations, &gbtr_registrations_ops, NULL, 0444);
MODULE_PARM_DESC(registrations, "live channels (read-only)");

static int __init gbtr_init(void)
{
	return misc_register(&gbtr_misc);
}

static void __exit gbtr_exit(void)
{
	misc_deregister(&gbtr_misc);
}

module_init(gbtr_init);
module_exit(gbtr_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gapbench: /dev/translator, Hijack^COS's translator as a device");
