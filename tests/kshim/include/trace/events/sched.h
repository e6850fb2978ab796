/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the scheduler tracepoints monitors attach to, with the prototypes
 * of the kernel RV targets (sched_process_exit has mainline's group_dead).
 * They print nothing; the driver fires them.
 */
#ifndef KSHIM_TRACE_EVENTS_SCHED_H
#define KSHIM_TRACE_EVENTS_SCHED_H
#include <linux/sched.h>

DECLARE_TRACE(sched_switch,
	TP_PROTO(bool preempt, struct task_struct *prev, struct task_struct *next,
		 unsigned int prev_state),
	TP_ARGS(preempt, prev, next, prev_state));
DECLARE_TRACE(sched_wakeup, TP_PROTO(struct task_struct *p), TP_ARGS(p));
DECLARE_TRACE(sched_waking, TP_PROTO(struct task_struct *p), TP_ARGS(p));
DECLARE_TRACE(sched_wakeup_new, TP_PROTO(struct task_struct *p), TP_ARGS(p));
DECLARE_TRACE(sched_process_exit, TP_PROTO(struct task_struct *p, bool group_dead),
	      TP_ARGS(p, group_dead));
#endif
