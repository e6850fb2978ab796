/* SPDX-License-Identifier: GPL-2.0 */
/* Harness stand-in: the task fields the binding's handlers read. */
#ifndef HARNESS_TRACE_EVENTS_SCHED_H
#define HARNESS_TRACE_EVENTS_SCHED_H
struct task_struct {
	int pid;
	int prio;
};
#define TASK_RUNNING 0x0000
#define TASK_REPORT 0x007f
extern struct task_struct *current;
#endif
