/* The master's own co-runner thread (host_corunner.h). */
#include "host_corunner.h"

#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rtenv.h"

static void *corunner_thread(void *arg)
{
	struct vlib_host_corunner *c = arg;
	c->pin_err = c->cpu >= 0 ? rtenv_pin_self(c->cpu) : 0;
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		if (!atomic_load_explicit(&c->allowed, memory_order_acquire)) {
			syscall(SYS_futex, &c->allowed, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
			continue;
		}
		atomic_fetch_add_explicit(&c->progress, c->step(c->arg), memory_order_relaxed);
		atomic_fetch_add_explicit(&c->steps, 1, memory_order_relaxed);
	}
	return NULL;
}

int vlib_host_corunner_start(struct vlib_host_corunner *c, int cpu, uint64_t (*step)(void *arg), void *arg)
{
	memset(c, 0, sizeof(*c));
	c->step = step;
	c->arg = arg;
	c->cpu = cpu;
	atomic_store(&c->allowed, 1);
	int err = pthread_create(&c->thread, NULL, corunner_thread, c);
	c->started = err == 0;
	return err;
}

void vlib_host_corunner_allow(struct vlib_host_corunner *c, bool allowed)
{
	atomic_store_explicit(&c->allowed, allowed ? 1u : 0u, memory_order_release);
	if (allowed)
		syscall(SYS_futex, &c->allowed, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void vlib_host_corunner_stop(struct vlib_host_corunner *c)
{
	if (!c->started)
		return;
	atomic_store(&c->stop, 1);
	vlib_host_corunner_allow(c, true);
	pthread_join(c->thread, NULL);
	c->started = false;
}
