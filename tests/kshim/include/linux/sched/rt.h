/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <linux/sched/rt.h>: priorities. */
#ifndef KSHIM_LINUX_SCHED_RT_H
#define KSHIM_LINUX_SCHED_RT_H
#define MAX_RT_PRIO 100
#endif
