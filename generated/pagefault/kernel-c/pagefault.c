// SPDX-License-Identifier: GPL-2.0
#include <linux/ftrace.h>
#include <linux/tracepoint.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/init.h>
#include <linux/rv.h>
#include <linux/sched/deadline.h>
#include <linux/sched/rt.h>
#include <rv/instrumentation.h>

#define MODULE_NAME "pagefault"

#include <trace/events/exceptions.h>
#include <rv_trace.h>

/* The automaton (generated from the formula) and the LTL monitor core. */
#include "pagefault.h"
#include <rv/ltl_monitor.h>

/* Called before every step: atoms read from the task itself. */
static void ltl_atoms_fetch(struct task_struct *task, struct ltl_monitor *mon)
{
	ltl_atom_set(mon, LTL_RT, rt_or_dl_task(task));
}

/*
 * Called when the monitor is enabled (task_creation false) and when a task is
 * forked (true): every atom set here is known from the start.
 */
static void ltl_atoms_init(struct task_struct *task, struct ltl_monitor *mon, bool task_creation)
{
	if (task_creation)
		ltl_atom_set(mon, LTL_PAGEFAULT, false);
}

static void handle_page_fault(void *data, unsigned long address, struct pt_regs *regs,
			      unsigned long error_code)
{
	ltl_atom_pulse(rv_get_current(), LTL_PAGEFAULT, true);
}

static int enable_pagefault(void)
{
	int retval;

	retval = ltl_monitor_init();
	if (retval)
		return retval;

	rv_attach_trace_probe("pagefault", page_fault_kernel, handle_page_fault);
	rv_attach_trace_probe("pagefault", page_fault_user, handle_page_fault);

	return 0;
}

static void disable_pagefault(void)
{
	rv_detach_trace_probe("pagefault", page_fault_kernel, handle_page_fault);
	rv_detach_trace_probe("pagefault", page_fault_user, handle_page_fault);

	ltl_monitor_destroy();
}

static struct rv_monitor rv_this = {
	.name = "pagefault",
	.description = "real-time tasks raise no page faults",
	.enable = enable_pagefault,
	.disable = disable_pagefault,
};

static int __init register_pagefault(void)
{
	return rv_register_monitor(&rv_this, NULL);
}

static void __exit unregister_pagefault(void)
{
	rv_unregister_monitor(&rv_this);
}

module_init(register_pagefault);
module_exit(unregister_pagefault);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("hamodel: generated");
MODULE_DESCRIPTION("pagefault: real-time tasks raise no page faults");

#if IS_ENABLED(CONFIG_RV_MONITORS_KUNIT_TEST)
#include <kunit/visibility.h>
#include "pagefault_kunit.h"

const struct rv_pagefault_ops rv_pagefault_ops = {
	.mon = RV_MON_OPS_INIT(),
	.handle_page_fault = handle_page_fault,
	.handle_task_newtask = handle_task_newtask,
};
EXPORT_SYMBOL_IF_KUNIT(rv_pagefault_ops);
#endif
