/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the tracepoints of signal delivery, with mainline's prototypes; the driver fires them. */
#ifndef KSHIM_TRACE_EVENTS_SIGNAL_H
#define KSHIM_TRACE_EVENTS_SIGNAL_H
#include <linux/sched.h>

DECLARE_TRACE(signal_deliver,
	      TP_PROTO(int sig, struct kernel_siginfo *info, struct k_sigaction *ka),
	      TP_ARGS(sig, info, ka));
#endif
