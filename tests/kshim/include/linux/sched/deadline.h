/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim stands in for <linux/sched/deadline.h> and what the deadline
 * container (kernel/trace/rv/monitors/deadline/deadline.h) reads of the
 * scheduler: entity types, servers, the task of an entity.  kshim has no
 * deadline servers: no task runs on one.
 */
#ifndef KSHIM_LINUX_SCHED_DEADLINE_H
#define KSHIM_LINUX_SCHED_DEADLINE_H
#include <linux/sched.h>
#include <uapi/linux/sched/types.h>

enum { DL_TASK, DL_SERVER_FAIR, DL_SERVER_EXT, DL_OTHER };

static inline bool dl_server(struct sched_dl_entity *dl_se)
{
	return dl_se->dl_server;
}

static inline struct task_struct *dl_task_of(struct sched_dl_entity *dl_se)
{
	return container_of(dl_se, struct task_struct, dl);
}

static inline bool dl_is_implicit(struct sched_dl_entity *dl_se)
{
	return dl_se->dl_deadline == dl_se->dl_period;
}

static inline struct task_struct *find_task_by_vpid(pid_t pid)
{
	return pid > 0 && pid < KSHIM_TASKS ? &kshim_tasks[pid] : NULL;
}

#define num_possible_cpus() KSHIM_NR_CPUS
#define for_each_possible_cpu(cpu) for_each_cpu(cpu, NULL)
#define read_lock(l) kshim_lock(&(l)->held)
#define read_unlock(l) ((l)->held = 0)
#endif
