/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <linux/sched.h>: struct task_struct and the task table. */
#include <kshim/kshim.h>
#include <kshim/task.h>
