/* The seccomp filter both seccomp transports install: act on calls carrying HJ_COOKIE. */
#pragma once

/*
 * Install, for the calling thread (and its future children), a filter that
 * returns `action` (SECCOMP_RET_TRAP or SECCOMP_RET_USER_NOTIF) for any
 * system call made from the guest's gate (guest.h) with HJ_COOKIE in
 * argument 5, and allows everything else.
 * With SECCOMP_RET_USER_NOTIF, returns the listener fd; otherwise 0.
 * -1 with errno on failure. Filters cannot be removed: call it only in a
 * process that ends with the case.
 */
int hj_seccomp_install(unsigned action);
