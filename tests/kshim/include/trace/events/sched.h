/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the scheduler tracepoints monitors attach to, with the prototypes
 * of the kernel RV targets (sched_process_exit has mainline's group_dead,
 * the *_tp hooks are mainline's).
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
/* the scheduler's own hooks, without a trace event (mainline's *_tp tracepoints) */
DECLARE_TRACE(sched_set_state_tp, TP_PROTO(struct task_struct *tsk, int state),
	      TP_ARGS(tsk, state));
DECLARE_TRACE(sched_entry_tp, TP_PROTO(bool preempt), TP_ARGS(preempt));
DECLARE_TRACE(sched_exit_tp, TP_PROTO(bool is_switch), TP_ARGS(is_switch));
DECLARE_TRACE(sched_set_need_resched_tp, TP_PROTO(struct task_struct *tsk, int cpu, int tif),
	      TP_ARGS(tsk, cpu, tif));
DECLARE_TRACE(sched_dl_replenish_tp, TP_PROTO(struct sched_dl_entity *dl_se, int cpu, u8 type),
	      TP_ARGS(dl_se, cpu, type));
DECLARE_TRACE(sched_dl_throttle_tp, TP_PROTO(struct sched_dl_entity *dl_se, int cpu, u8 type),
	      TP_ARGS(dl_se, cpu, type));
DECLARE_TRACE(sched_dl_server_stop_tp,
	      TP_PROTO(struct sched_dl_entity *dl_se, int cpu, u8 type),
	      TP_ARGS(dl_se, cpu, type));
#endif
