/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tlob monitor as its KUnit cases (tlob_kunit.c, compiled with
 * kernel/trace/rv/rv_monitors_test.c) reach it: tlob.c fills rv_tlob_ops
 * when CONFIG_RV_MONITORS_KUNIT_TEST is on.
 */

#ifndef __TLOB_KUNIT_H
#define __TLOB_KUNIT_H

#if IS_ENABLED(CONFIG_RV_MONITORS_KUNIT_TEST)

#include <linux/rv.h>
#include <linux/sched.h>
#include <rv/kunit.h>

/* One line of the binding file as tlob_parse_binding() reads it. */
struct rv_tlob_kunit_line {
	bool remove;
	const char *path;
	u64 start;
	u64 stop;
	u64 threshold_ns;
};

extern const struct rv_tlob_ops {
	struct rv_kunit_mon mon;
	/* each model event, sent to @task the way the tracepoint handlers send it */
	void (*send_preempt)(struct task_struct *task);
	void (*send_sleep)(struct task_struct *task);
	void (*send_switch_in)(struct task_struct *task);
	void (*send_wakeup)(struct task_struct *task);
	/* stop monitoring @task */
	void (*reset)(struct task_struct *task);
	/* the state of the monitor of @task, "not monitoring" when it is not */
	const char *(*state)(struct task_struct *task);
	/* tlob_start_task() and tlob_stop_task() */
	int (*start_task)(struct task_struct *task, u64 threshold_ns);
	int (*stop_task)(struct task_struct *task);
	/* when the monitor of @task entered its state, and the time it spent in all */
	u64 (*entered_ns)(struct task_struct *task);
	u64 (*residency_ns)(struct task_struct *task);
	/* tlob_parse_binding() */
	int (*parse_binding)(char *line, struct rv_tlob_kunit_line *b);
} rv_tlob_ops;
#endif

#endif /* __TLOB_KUNIT_H */
