/*
 * Deferred timer re-arming (Karma section IV, Figure 5) over one word of the
 * shared page, without an exit: the guest's periodic loop writes the release
 * AFTER the one now armed; when the VMM handles an expiry it takes that word
 * and arms it. The first release is armed by hypercall. Both sides use these inline functions (guest and host share
 * the page), so the protocol is unit-tested on the host (tests/test_calc.c).
 *
 *   word == 0                 nothing written since the VMM last took it
 *   word == KARMA_NEXT_IDLE   the VMM found nothing at its last expiry: no
 *                             host timer is armed, the guest must arm by
 *                             hypercall
 *   word  > KARMA_NEXT_IDLE   the deadline to arm at the next expiry
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#define KARMA_NEXT_IDLE 1ull

/*
 * VMM, at an expiry: the deadline to arm now, or 0 (the word is then IDLE).
 * A guest write racing with us is either taken or sees IDLE.
 */
static inline uint64_t karma_deferred_take(uint64_t *word)
{
	for (;;) {
		uint64_t d = __atomic_load_n(word, __ATOMIC_ACQUIRE);
		if (d > KARMA_NEXT_IDLE) {
			if (__atomic_compare_exchange_n(word, &d, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return d;
			continue;
		}
		if (d == KARMA_NEXT_IDLE)
			return 0;
		uint64_t zero = 0;
		if (__atomic_compare_exchange_n(word, &zero, KARMA_NEXT_IDLE, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return 0;
	}
}

/*
 * Guest, after handling release k-1 (release k is armed, or has already
 * fired if the guest is late): publish release k+1 = `next`. Returns true
 * when the VMM went idle at release k's expiry (it found nothing to arm):
 * no host timer is armed, the word is reset to 0 here, and the guest must
 * arm `next` itself by hypercall.
 */
static inline bool karma_deferred_publish(uint64_t *word, uint64_t next)
{
	if (__atomic_exchange_n(word, next, __ATOMIC_ACQ_REL) != KARMA_NEXT_IDLE)
		return false;
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);   /* the VMM is idle: nobody takes it meanwhile */
	return true;
}
