/*
 * The real-time environment: what is granted is not reported as refused
 * (a SCHED_FIFO task reads back timer slack 0, less than asked: fine), and
 * what is refused is named with how to grant it.
 */
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "rtenv.h"

int main(void)
{
	struct rtenv_request req = { .mlock = false, .priority = 10, .cpu = -1, .dma_latency = false,
				     .timer_slack_ns = 1 };
	struct rtenv_state st;
	char why[512] = "";
	rtenv_apply(&req, &st);
	int n = rtenv_refused(&req, &st, why, sizeof(why));
	if (geteuid() == 0) {
		CHECK_MSG(n == 0, "as root, priority 10 and timer slack 1 ns were refused: %s", why);
		CHECK(st.priority.got == 10);
	} else if (n > 0) {
		CHECK_MSG(strstr(why, "SCHED_FIFO priority 10") && strstr(why, "CAP_SYS_NICE"), "%s", why);
	}
	rtenv_release(&st);

	/* an item refused is named, once per item */
	struct rtenv_state fake = { 0 };
	struct rtenv_request want = { .mlock = true, .priority = 80, .cpu = 3, .dma_latency = true, .timer_slack_ns = -1 };
	fake.mlock = (struct rtenv_item){ .requested = true, .ok = false, .err = 12 };
	fake.priority = (struct rtenv_item){ .requested = true, .ok = false, .err = 1 };
	fake.dma_latency = (struct rtenv_item){ .requested = true, .ok = true };
	fake.cpu = (struct rtenv_item){ .requested = true, .ok = false, .err = 22 };
	fake.timer_slack = (struct rtenv_item){ .ok = true };
	CHECK(rtenv_refused(&want, &fake, why, sizeof(why)) == 3);
	CHECK(strstr(why, "SCHED_FIFO priority 80") != NULL);
	CHECK(strstr(why, "mlockall") != NULL);
	CHECK(strstr(why, "CPU 3") != NULL);
	CHECK(strstr(why, "cpu_dma_latency") == NULL);
	CHECK_DONE();
}
