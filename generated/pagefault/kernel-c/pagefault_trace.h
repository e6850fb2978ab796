/* SPDX-License-Identifier: GPL-2.0 */

/*
 * The pagefault monitor's trace events, to include from rv_trace.h where
 * CONFIG_LTL_MON_EVENTS_ID declares the LTL event classes.
 */

#ifdef CONFIG_RV_MON_PAGEFAULT
DEFINE_EVENT(event_ltl_monitor_id, event_pagefault,
	     TP_PROTO(struct task_struct *task, char *states, char *atoms, char *next),
	     TP_ARGS(task, states, atoms, next));
DEFINE_EVENT(error_ltl_monitor_id, error_pagefault,
	     TP_PROTO(struct task_struct *task),
	     TP_ARGS(task));
#endif /* CONFIG_RV_MON_PAGEFAULT */
