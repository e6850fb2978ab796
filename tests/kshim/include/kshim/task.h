/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: tasks.  A fixed table: the task with pid N is kshim_tasks[N]
 * (pid 0 is unused there: each CPU has its own idle task with pid 0, as in
 * the kernel).  struct task_struct has the per-task monitor slots that the
 * verbatim <linux/rv.h> defines, so include that first.
 */
#ifndef KSHIM_TASK_H
#define KSHIM_TASK_H

#include <linux/rv.h>

#ifndef CONFIG_RV_PER_TASK_MONITORS
#define CONFIG_RV_PER_TASK_MONITORS 2
#endif

#define TASK_COMM_LEN 16
#define TASK_RUNNING 0x00000000
#define TASK_INTERRUPTIBLE 0x00000001
#define TASK_UNINTERRUPTIBLE 0x00000002
#define __TASK_STOPPED 0x00000004
#define __TASK_TRACED 0x00000008
#define EXIT_DEAD 0x00000010
#define EXIT_ZOMBIE 0x00000020
#define TASK_PARKED 0x00000040
#define TASK_DEAD 0x00000080
#define TASK_WAKEKILL 0x00000100
#define TASK_NOLOAD 0x00000400
#define TASK_IDLE (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)
#define TASK_RTLOCK_WAIT 0x00001000
#define TASK_FROZEN 0x00008000
#define TASK_REPORT 0x0000007f
#define TASK_REPORT_IDLE (TASK_REPORT + 1)
#define TIF_NEED_RESCHED 3

/* what tracepoint prototypes name; a monitor never looks inside */
struct kernel_siginfo;
struct k_sigaction;
struct irqaction;
struct sched_class;

/* the deadline scheduler's entity, the members monitors of deadline entities read */
struct sched_dl_entity {
	u64 dl_runtime;
	u64 dl_deadline;
	u64 dl_period;
	unsigned int dl_server : 1;
	unsigned int dl_defer : 1;
};

struct thread_info {
	unsigned long flags;
};

struct task_struct {
	pid_t pid;
	pid_t tgid;
	int prio;
	int policy;
	unsigned int __state;
	int exit_state;
	char comm[TASK_COMM_LEN];
	void *stack;
	const struct sched_class *sched_class;
	struct sched_dl_entity dl;
	struct sched_dl_entity *dl_server;
	union rv_task_monitor rv[CONFIG_RV_PER_TASK_MONITORS];
};

#define KSHIM_TASKS 64
static struct task_struct kshim_tasks[KSHIM_TASKS];
static struct task_struct kshim_idle_tasks[KSHIM_NR_CPUS];
static __thread struct task_struct *kshim_current = &kshim_tasks[1];
static rwlock_t tasklist_lock __maybe_unused;

#define current kshim_current
#define idle_task(cpu) (&kshim_idle_tasks[cpu])
#define is_idle_task(p) ((p)->pid == 0)
#define task_cpu(p) kshim_cpu
#define for_each_process_thread(g, p)							\
	for ((g) = (p) = &kshim_tasks[1]; (g) < kshim_tasks + KSHIM_TASKS; (g) = ++(p))

static inline void kshim_init_tasks(void)
{
	for (int i = 0; i < KSHIM_TASKS; i++) {
		kshim_tasks[i].pid = i;
		kshim_tasks[i].tgid = i;
		kshim_tasks[i].prio = 120;
		snprintf(kshim_tasks[i].comm, TASK_COMM_LEN, "task%u", i % 1000u);
	}
	for (int cpu = 0; cpu < KSHIM_NR_CPUS; cpu++)
		snprintf(kshim_idle_tasks[cpu].comm, TASK_COMM_LEN, "swapper/%u", cpu % 100u);
}

#endif /* KSHIM_TASK_H */
