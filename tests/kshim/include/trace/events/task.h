/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the tracepoints of task creation, with mainline's prototypes; the driver fires them. */
#ifndef KSHIM_TRACE_EVENTS_TASK_H
#define KSHIM_TRACE_EVENTS_TASK_H
#include <linux/sched.h>

DECLARE_TRACE(task_newtask, TP_PROTO(struct task_struct *task, u64 clone_flags),
	      TP_ARGS(task, clone_flags));
#endif
