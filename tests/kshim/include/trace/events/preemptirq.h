/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the tracepoints of the preemption and interrupt toggles, with mainline's prototypes; the driver fires them. */
#ifndef KSHIM_TRACE_EVENTS_PREEMPTIRQ_H
#define KSHIM_TRACE_EVENTS_PREEMPTIRQ_H
#include <linux/sched.h>

DECLARE_TRACE(preempt_disable, TP_PROTO(unsigned long ip, unsigned long parent_ip),
	      TP_ARGS(ip, parent_ip));
DECLARE_TRACE(preempt_enable, TP_PROTO(unsigned long ip, unsigned long parent_ip),
	      TP_ARGS(ip, parent_ip));
DECLARE_TRACE(irq_disable, TP_PROTO(unsigned long ip, unsigned long parent_ip),
	      TP_ARGS(ip, parent_ip));
DECLARE_TRACE(irq_enable, TP_PROTO(unsigned long ip, unsigned long parent_ip),
	      TP_ARGS(ip, parent_ip));
#endif
