// SPDX-License-Identifier: GPL-2.0
#include <linux/ftrace.h>
#include <linux/tracepoint.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/init.h>
#include <linux/rv.h>
#include <rv/instrumentation.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/string.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/tracefs.h>
#include <linux/uaccess.h>
#include <linux/uprobes.h>

#define MODULE_NAME "tlob"

#include <trace/events/sched.h>
#include <rv_trace.h>

/*
 * What the framework header needs first: the monitor type, the invariant timer
 * and the automaton.  <rv/ha_monitor.h> then defines the monitor storage
 * and the da_handle_*() functions the handlers below call.
 */
#define RV_MON_TYPE RV_MON_PER_OBJ
/*
 * Invariant timer: an hrtimer, since an invariant counts ns, which
 * the timer wheel would round up to the next jiffy.
 */
#define HA_TIMER_TYPE HA_TIMER_HRTIMER
/* Monitors start at a marker, often in atomic context: storage is made there, never on events */
#define DA_SKIP_AUTO_ALLOC
typedef struct tlob_target *monitor_target;
#include "tlob.h"
#include <rv/ha_monitor.h>

/*
 * From here on, the kernel side: each tracepoint handler sends the model
 * events the binding maps that tracepoint to.
 */

/*
 * One target per monitored task, from a pool allocated with the module: the
 * tracepoint handlers never allocate, and at most TLOB_SLOTS tasks are
 * monitored at once. A slot is free when its task is NULL; slots are taken
 * under tlob_slots_lock. A stop retires a slot in two phases: it resets
 * the monitor and marks the slot retiring; one RCU grace period later (a
 * handler that saw the monitor running has returned by then) tlob_retire_slot()
 * cancels the timer synchronously, destroys the storage and frees the slot.
 * The same task may start again meanwhile: its retiring slot is taken back.
 */
#define TLOB_SLOTS 64
#define TLOB_THRESHOLD_NS_MIN 1000ull
#define TLOB_THRESHOLD_NS_MAX 3600000000000ull

struct tlob_target {
	struct task_struct *task;
	/* the storage's id: the task may be gone when the slot retires */
	pid_t pid;
	/* stopped, waiting for tlob_retire_slot() */
	bool retiring;
	/* stopped again while the retire work was queued: it waits one more grace period */
	bool requeue;
	struct rcu_work retire;
	u64 threshold_ns;
	/* time spent in each state since the start, and when the current one began */
	u64 residency_ns[state_max_tlob];
	u64 entered_ns;
	/* the instant of the error being reported, see ha_get_env() */
	u64 report_ns;
};

static struct tlob_target tlob_slots[TLOB_SLOTS];
static DEFINE_SPINLOCK(tlob_slots_lock);

/* The slot of @task, or a free slot when @task is NULL. */
static struct tlob_target *tlob_find_slot(struct task_struct *task)
{
	for (int i = 0; i < TLOB_SLOTS; i++) {
		if (tlob_slots[i].task == task)
			return &tlob_slots[i];
	}
	return NULL;
}

/*
 * Whether the storage of @pid is retiring for another task (the pid was reused):
 * it cannot be made again yet.
 */
static bool tlob_pid_retiring(pid_t pid)
{
	for (int i = 0; i < TLOB_SLOTS; i++) {
		if (tlob_slots[i].retiring && tlob_slots[i].pid == pid)
			return true;
	}
	return false;
}

/*
 * The start marker's parameters, per task: the constraint functions read them
 * from the target of the monitor (as nomiss reads its deadline).
 */
#define BUDGET_NS(ha_mon) (ha_get_target(ha_mon)->threshold_ns)

/*
 * One clock read per tracepoint hit: the handler stores it here (probes run
 * with preemption disabled) and ha_verify_constraint() uses it, so the events
 * one hit sends (prev and next of a sched_switch) happen at the same instant.
 */
static DEFINE_PER_CPU(u64, tlob_event_ns);

/*
 * ha_get_env() reads an env: a clock through the framework's ns or jiffy
 * helpers (the unit the model compares it in decides which), a read-only env
 * the way the binding says.  ha_reset_env() restarts a clock; read-only envs
 * are never reset, so a model without clocks has none.
 */
static u64 ha_get_env(struct ha_monitor *ha_mon, enum envs_tlob env, u64 time_ns)
{
	/*
	 * The framework reads every env for the text of an error at the instant it
	 * reports: the residency that handle_error_env() adds counts to that instant.
	 */
	ha_get_target(ha_mon)->report_ns = time_ns;
	if (env == clk_elapsed_tlob)
		return ha_get_clk_ns(ha_mon, env, time_ns);
	return ENV_INVALID_VALUE;
}

static void ha_reset_env(struct ha_monitor *ha_mon, enum envs_tlob env, u64 time_ns)
{
	if (env == clk_elapsed_tlob)
		ha_reset_clk_ns(ha_mon, env, time_ns);
}

/*
 * The model's constraints, checked on each transition ha_monitor.h asks about:
 * the invariant of the state being left (an event may come before its timer
 * fired), the guard and resets of the edge, then the timer of the state
 * entered.  A transition that stays in its state and resets nothing leaves the
 * running timer alone.
 */
static inline bool ha_verify_invariants(struct ha_monitor *ha_mon,
					enum states curr_state, enum events event,
					enum states next_state, u64 time_ns)
{
	if (curr_state == running_tlob)
		return ha_check_invariant_ns(ha_mon, clk_elapsed_tlob, time_ns, BUDGET_NS(ha_mon));
	else if (curr_state == sleeping_tlob)
		return ha_check_invariant_ns(ha_mon, clk_elapsed_tlob, time_ns, BUDGET_NS(ha_mon));
	else if (curr_state == waiting_tlob)
		return ha_check_invariant_ns(ha_mon, clk_elapsed_tlob, time_ns, BUDGET_NS(ha_mon));
	return true;
}

static inline void ha_setup_invariants(struct ha_monitor *ha_mon,
				       enum states curr_state, enum events event,
				       enum states next_state, u64 time_ns)
{
	if (next_state == curr_state)
		return;
	if (next_state == running_tlob)
		ha_start_timer_ns(ha_mon, clk_elapsed_tlob, BUDGET_NS(ha_mon), time_ns);
	else if (next_state == sleeping_tlob)
		ha_start_timer_ns(ha_mon, clk_elapsed_tlob, BUDGET_NS(ha_mon), time_ns);
	else if (next_state == waiting_tlob)
		ha_start_timer_ns(ha_mon, clk_elapsed_tlob, BUDGET_NS(ha_mon), time_ns);
	else if (curr_state == running_tlob)
		ha_cancel_timer(ha_mon);
	else if (curr_state == sleeping_tlob)
		ha_cancel_timer(ha_mon);
	else if (curr_state == waiting_tlob)
		ha_cancel_timer(ha_mon);
}

/*
 * The framework starts a monitor with every clock unset and no timer armed
 * (ha_monitor_init_env()). This model resets clocks on its initial arrow, so
 * each path that starts monitoring of an object calls this at that instant.
 */
static inline void ha_setup_initial_state(struct ha_monitor *ha_mon, u64 time_ns)
{
	ha_reset_env(ha_mon, clk_elapsed_tlob, time_ns);
	ha_start_timer_ns(ha_mon, clk_elapsed_tlob, BUDGET_NS(ha_mon), time_ns);
}

/*
 * Residency: each transition adds the interval spent in the state it leaves
 * to that state's total; a report adds the current interval itself.
 */
static inline void tlob_account_residency(struct ha_monitor *ha_mon,
					  enum states curr_state, u64 time_ns)
{
	struct tlob_target *target = ha_get_target(ha_mon);

	target->residency_ns[curr_state] += time_ns - target->entered_ns;
	target->entered_ns = time_ns;
}

static bool ha_verify_constraint(struct ha_monitor *ha_mon,
				 enum states curr_state, enum events event,
				 enum states next_state, u64 time_ns)
{
	/* the instant the handler read for this tracepoint hit, see tlob_event_ns */
	time_ns = __this_cpu_read(tlob_event_ns);
	/*
	 * A handler another CPU ran late may bring a stamp older than the last move
	 * (or than a restart of the task): it happens no earlier than that.
	 */
	time_ns = max(time_ns, ha_get_target(ha_mon)->entered_ns);

	/*
	 * The initial arrow resets clk_elapsed_tlob: it is unset only when
	 * da_handle_start_run_event() started monitoring with this very event.
	 */
	if (ha_monitor_env_invalid(ha_mon, clk_elapsed_tlob))
		ha_setup_initial_state(ha_mon, time_ns);

	if (!ha_verify_invariants(ha_mon, curr_state, event, next_state, time_ns))
		return false;

	ha_setup_invariants(ha_mon, curr_state, event, next_state, time_ns);

	tlob_account_residency(ha_mon, curr_state, time_ns);

	return true;
}

/*
 * prev_state as sched_switch reports it, the same on every hamodel target:
 * a preempted task is TASK_RUNNING, otherwise the highest reported state bit,
 * an idle wait as TASK_REPORT_IDLE and an rt-lock wait or a frozen task as
 * TASK_UNINTERRUPTIBLE.
 */
static unsigned int ha_prev_state(bool preempt, unsigned int prev_state,
				  struct task_struct *prev)
{
	unsigned int state;

	if (preempt)
		return TASK_RUNNING;
	state = (prev_state | prev->exit_state) & TASK_REPORT;
	if ((prev_state & TASK_IDLE) == TASK_IDLE)
		state = TASK_REPORT_IDLE;
	if (prev_state & (TASK_RTLOCK_WAIT | TASK_FROZEN))
		state = TASK_UNINTERRUPTIBLE;
	return state ? 1U << (fls(state) - 1) : TASK_RUNNING;
}

static void handle_sched_switch(void *data, bool preempt,
				struct task_struct *prev,
				struct task_struct *next,
				unsigned int prev_state)
{
	__this_cpu_write(tlob_event_ns, ktime_get_ns());

	if (ha_prev_state(preempt, prev_state, prev) == TASK_RUNNING)
		da_handle_event(prev->pid, NULL, preempt_tlob);
	if (ha_prev_state(preempt, prev_state, prev) != TASK_RUNNING)
		da_handle_event(prev->pid, NULL, sleep_tlob);
	da_handle_event(next->pid, NULL, switch_in_tlob);
}

static void handle_sched_wakeup(void *data, struct task_struct *p)
{
	__this_cpu_write(tlob_event_ns, ktime_get_ns());

	da_handle_event(p->pid, NULL, wakeup_tlob);
}

static void handle_obj_cleanup(void *data, struct task_struct *p, bool group_dead)
{
	tlob_stop_task(p);
}

/* ha_cancel_timer() does not wait for a running callback, which reads the slot. */
static inline void tlob_cancel_timer_sync(struct ha_monitor *ha_mon)
{
	hrtimer_cancel(&ha_mon->hrtimer);
}

/**
 * tlob_start_task - start monitoring a task
 * @task: the task, usually current
 * @threshold_ns: BUDGET_NS for this run, in ns
 *
 * Return: 0 when monitoring started, -ENODEV when the monitor is disabled,
 * -ERANGE when a parameter is outside its limits,
 * -EALREADY when @task is being monitored, -EBUSY when the storage of an
 * exited task with the same pid is still retiring (one RCU grace period after
 * its stop), -ENOSPC when all TLOB_SLOTS slots are taken or retiring,
 * -ENOMEM when the monitor storage cannot be allocated. A task that stopped
 * moments ago starts again on its own retiring slot.
 */
int tlob_start_task(struct task_struct *task, u64 threshold_ns)
{
	struct tlob_target *target;
	struct da_monitor *da_mon;
	u64 time_ns;

	if (!da_monitor_enabled())
		return -ENODEV;
	if (threshold_ns < TLOB_THRESHOLD_NS_MIN || threshold_ns > TLOB_THRESHOLD_NS_MAX)
		return -ERANGE;

	guard(spinlock)(&tlob_slots_lock);
	guard(rcu)();
	target = tlob_find_slot(task);
	if (target) {
		/*
		 * A violation stopped the monitor and the slot waits for the stop, or
		 * the task stopped and its slot is retiring: take it back.
		 */
		da_mon = da_get_monitor(task->pid, target);
		if (da_monitoring(da_mon))
			return -EALREADY;
		tlob_cancel_timer_sync(to_ha_monitor(da_mon));
		target->retiring = false;
	} else {
		if (tlob_pid_retiring(task->pid))
			return -EBUSY;
		target = tlob_find_slot(NULL);
		if (!target)
			return -ENOSPC;
		da_mon = da_create_storage(task->pid, target, NULL);
		if (!da_mon)
			return -ENOMEM;
		target->task = task;
		target->pid = task->pid;
	}
	target->threshold_ns = threshold_ns;
	time_ns = ktime_get_ns();
	memset(target->residency_ns, 0, sizeof(target->residency_ns));
	target->entered_ns = time_ns;
	da_monitor_start(da_mon);
	ha_setup_initial_state(to_ha_monitor(da_mon), time_ns);
	return 0;
}

/*
 * The second phase of a release, one RCU grace period after the last stop:
 * every handler that saw the monitor running has returned, so nothing arms the
 * timer again or writes the slot. A work item, not an RCU callback: it waits
 * for the timer callback and takes the slots lock, in process context. A slot
 * its task took back meanwhile stays; one stopped again after this work was
 * queued waits for one more grace period.
 */
static void tlob_retire_slot(struct work_struct *work)
{
	struct tlob_target *target;
	struct da_monitor *da_mon;

	target = container_of(to_rcu_work(work), struct tlob_target, retire);

	/* the storage's hash table has one writer at a time: starts hold the lock */
	guard(spinlock)(&tlob_slots_lock);
	if (target->requeue) {
		target->requeue = false;
		queue_rcu_work(system_wq, &target->retire);
		return;
	}
	if (!target->retiring)
		return;
	scoped_guard(rcu) {
		da_mon = da_get_monitor(target->pid, target);
		if (da_mon)
			tlob_cancel_timer_sync(to_ha_monitor(da_mon));
	}
	da_destroy_storage(target->pid);
	target->task = NULL;
	target->retiring = false;
}

/*
 * Stop the monitor of a taken slot and retire the slot; the slots lock is held.
 * A handler on another CPU may have seen the monitor running just before the
 * reset: the storage and the slot stay until tlob_retire_slot().
 */
static int tlob_release_slot(struct tlob_target *target)
{
	struct da_monitor *da_mon;
	struct ha_monitor *ha_mon;
	int ret;

	scoped_guard(rcu) {
		da_mon = da_get_monitor(target->pid, target);
		ha_mon = to_ha_monitor(da_mon);
		/*
		 * The stop and the timer must not both report, so the timer comes off
		 * its queue first. Taken off past the deadline (its interrupt is late),
		 * it has not reported: the stop finds the invariant false and reports
		 * as the timer would. Not taken off, it has run or runs now on another
		 * CPU: wait for it to report and reset.
		 */
		if (ha_cancel_timer(ha_mon)) {
			if (da_monitoring(da_mon) &&
			    !ha_verify_invariants(ha_mon, READ_ONCE(da_mon->curr_state), 0,
						  READ_ONCE(da_mon->curr_state), ha_get_ns()))
				__ha_monitor_timer_callback(ha_mon);
		} else {
			tlob_cancel_timer_sync(ha_mon);
		}
		ret = da_monitoring(da_mon) ? 0 : -EOVERFLOW;
		da_monitor_reset(da_mon);
		tlob_cancel_timer_sync(ha_mon);
	}
	target->retiring = true;
	if (!queue_rcu_work(system_wq, &target->retire))
		target->requeue = true;
	return ret;
}

/**
 * tlob_stop_task - stop monitoring a task and free its slot
 * @task: the task, usually current
 *
 * Return: 0 when @task was monitored and no violation occurred, -EOVERFLOW
 * when a violation ended its monitoring since the start, -ESRCH when @task
 * is not monitored.
 */
int tlob_stop_task(struct task_struct *task)
{
	struct tlob_target *target;

	guard(spinlock)(&tlob_slots_lock);
	target = tlob_find_slot(task);
	if (!target || target->retiring)
		return -ESRCH;
	return tlob_release_slot(target);
}

static void tlob_init_slots(void)
{
	for (int i = 0; i < TLOB_SLOTS; i++)
		INIT_RCU_WORK(&tlob_slots[i].retire, tlob_retire_slot);
}

/* Wait until every retiring slot is free (a work may queue itself once more). */
static void tlob_flush_retiring(void)
{
	for (int i = 0; i < TLOB_SLOTS; i++) {
		while (flush_rcu_work(&tlob_slots[i].retire))
			;
	}
}

/* Disabling the monitor destroys every storage: free every slot first. */
static void tlob_free_slots(void)
{
	scoped_guard(spinlock, &tlob_slots_lock) {
		for (int i = 0; i < TLOB_SLOTS; i++) {
			if (tlob_slots[i].task && !tlob_slots[i].retiring)
				tlob_release_slot(&tlob_slots[i]);
		}
	}
	tlob_flush_retiring();
}

/*
 * After each error_env_tlob, whether the timer found the overrun (event
 * "none") or an event that came before the timer ran, report the time spent in
 * each state up to the instant of the error, the current interval included.
 * The probe runs before the monitor is reset, inside the timer callback or the
 * event's handler; the slot stays taken until tlob_retire_slot() has waited
 * for both. The state is the one the error names: an event has already moved
 * curr_state on.
 */
static void handle_error_env(void *data, int id, char *state, char *event, char *env)
{
	struct tlob_target *target;
	u64 residency_ns[state_max_tlob];
	struct da_monitor *da_mon;
	int s;

	for (s = 0; s < state_max_tlob; s++) {
		if (!strcmp(state, model_get_state_name(s)))
			break;
	}
	if (s == state_max_tlob)
		return;
	guard(rcu)();
	da_mon = da_get_monitor(id, NULL);
	if (!da_mon)
		return;
	target = da_get_target(da_mon);
	memcpy(residency_ns, target->residency_ns, sizeof(residency_ns));
	residency_ns[s] += target->report_ns - target->entered_ns;
	trace_detail_env_tlob(id, target->threshold_ns,
			      residency_ns[running_tlob],
			      residency_ns[waiting_tlob],
			      residency_ns[sleeping_tlob]);
}

/*
 * The binding file, rv/monitors/tlob/monitor in tracefs: a pair of uprobes on
 * an unmodified binary starts and stops monitoring of the task that hits them.
 *
 *   p PATH:START STOP threshold=N    add a pair (file offsets, decimal or 0x-hex)
 *   -PATH:START                      remove it
 *
 * Reading the file lists the pairs as `p PATH:0xSTART 0xSTOP threshold=N`.
 */
struct tlob_binding_line {
	bool remove;
	char *path;
	u64 start;
	u64 stop;
	u64 threshold_ns;
};

struct tlob_binding {
	struct list_head list;
	char *path;
	u64 start;
	u64 stop;
	u64 threshold_ns;
	struct uprobe *start_probe;
	struct uprobe *stop_probe;
	struct uprobe_consumer start_uc;
	struct uprobe_consumer stop_uc;
};

static LIST_HEAD(tlob_bindings);
static DEFINE_MUTEX(tlob_bindings_lock);

/* A file offset: decimal or 0x-hex, at most LLONG_MAX (a loff_t). */
static int tlob_parse_offset(const char *text, u64 *offset)
{
	int base = text[0] == '0' && (text[1] == 'x' || text[1] == 'X') ? 16 : 10;
	unsigned long long value;

	if (kstrtoull(text, base, &value) || value > LLONG_MAX)
		return -EINVAL;
	*offset = value;
	return 0;
}

/*
 * tlob_parse_binding - parse one line of the binding file
 *
 * Words are separated by spaces or tabs; the path is absolute and ends at the
 * last ':'. Return: 0, -ERANGE for a threshold outside its limits, -EINVAL for
 * any other malformed line. @b->path points into @line.
 */
static int tlob_parse_binding(char *line, struct tlob_binding_line *b)
{
	char *words[4], *word, *colon;
	u64 value;
	int n = 0;
	int ret;

	line = strim(line);
	while ((word = strsep(&line, " \t"))) {
		if (!*word)
			continue;
		if (n == ARRAY_SIZE(words))
			return -EINVAL;
		words[n++] = word;
	}
	if (!n)
		return -EINVAL;
	b->remove = words[0][0] == '-';
	if (b->remove) {
		if (n != 1)
			return -EINVAL;
		b->path = words[0] + 1;
	} else {
		if (n != 4 || strcmp(words[0], "p"))
			return -EINVAL;
		b->path = words[1];
	}
	colon = strrchr(b->path, ':');
	if (!colon || b->path[0] != '/')
		return -EINVAL;
	*colon = '\0';
	if (tlob_parse_offset(colon + 1, &b->start))
		return -EINVAL;
	if (b->remove)
		return 0;
	if (tlob_parse_offset(words[2], &b->stop) || b->stop == b->start)
		return -EINVAL;
	if (!str_has_prefix(words[3], "threshold="))
		return -EINVAL;
	ret = kstrtou64(words[3] + strlen("threshold="), 10, &value);
	if (ret)
		return ret == -ERANGE ? -ERANGE : -EINVAL;
	if (value < TLOB_THRESHOLD_NS_MIN || value > TLOB_THRESHOLD_NS_MAX)
		return -ERANGE;
	b->threshold_ns = value;
	return 0;
}

static int tlob_uprobe_start(struct uprobe_consumer *uc, struct pt_regs *regs, __u64 *data)
{
	struct tlob_binding *b = container_of(uc, struct tlob_binding, start_uc);

	tlob_start_task(current, b->threshold_ns);
	return 0;
}

static int tlob_uprobe_stop(struct uprobe_consumer *uc, struct pt_regs *regs, __u64 *data)
{
	tlob_stop_task(current);
	return 0;
}

static struct tlob_binding *tlob_find_binding(const char *path, u64 start)
{
	struct tlob_binding *b;

	list_for_each_entry(b, &tlob_bindings, list) {
		if (b->start == start && !strcmp(b->path, path))
			return b;
	}
	return NULL;
}

static void tlob_free_binding(struct tlob_binding *b)
{
	if (!IS_ERR_OR_NULL(b->start_probe))
		uprobe_unregister_nosync(b->start_probe, &b->start_uc);
	if (!IS_ERR_OR_NULL(b->stop_probe))
		uprobe_unregister_nosync(b->stop_probe, &b->stop_uc);
	uprobe_unregister_sync();
	kfree(b->path);
	kfree(b);
}

static int tlob_add_binding(struct tlob_binding_line *line)
{
	struct tlob_binding *b;
	struct inode *inode;
	struct path path;
	int ret;

	if (tlob_find_binding(line->path, line->start))
		return -EEXIST;
	ret = kern_path(line->path, LOOKUP_FOLLOW, &path);
	if (ret)
		return ret;
	inode = d_real_inode(path.dentry);
	ret = -EINVAL;
	if (!S_ISREG(inode->i_mode))
		goto out;
	ret = -ENOMEM;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		goto out;
	b->path = kstrdup(line->path, GFP_KERNEL);
	b->start = line->start;
	b->stop = line->stop;
	b->threshold_ns = line->threshold_ns;
	b->start_uc.handler = tlob_uprobe_start;
	b->stop_uc.handler = tlob_uprobe_stop;
	if (!b->path) {
		tlob_free_binding(b);
		goto out;
	}
	b->start_probe = uprobe_register(inode, b->start, 0, &b->start_uc);
	b->stop_probe = uprobe_register(inode, b->stop, 0, &b->stop_uc);
	if (IS_ERR(b->start_probe) || IS_ERR(b->stop_probe)) {
		ret = PTR_ERR(IS_ERR(b->start_probe) ? b->start_probe : b->stop_probe);
		tlob_free_binding(b);
		goto out;
	}
	list_add_tail(&b->list, &tlob_bindings);
	ret = 0;
out:
	path_put(&path);
	return ret;
}

static int tlob_remove_binding(struct tlob_binding_line *line)
{
	struct tlob_binding *b = tlob_find_binding(line->path, line->start);

	if (!b)
		return -ENOENT;
	list_del(&b->list);
	tlob_free_binding(b);
	return 0;
}

static void tlob_remove_bindings(void)
{
	struct tlob_binding *b, *tmp;

	guard(mutex)(&tlob_bindings_lock);
	list_for_each_entry_safe(b, tmp, &tlob_bindings, list) {
		list_del(&b->list);
		tlob_free_binding(b);
	}
}

static ssize_t tlob_monitor_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct tlob_binding_line line;
	char *buf;
	int ret;

	if (count > PATH_MAX + 64)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = tlob_parse_binding(buf, &line);
	if (!ret) {
		guard(mutex)(&tlob_bindings_lock);
		ret = line.remove ? tlob_remove_binding(&line) : tlob_add_binding(&line);
	}
	kfree(buf);
	if (ret)
		return ret;
	return count;
}

static int tlob_monitor_show(struct seq_file *s, void *unused)
{
	struct tlob_binding *b;

	guard(mutex)(&tlob_bindings_lock);
	list_for_each_entry(b, &tlob_bindings, list)
		seq_printf(s, "p %s:0x%llx 0x%llx threshold=%llu\n", b->path, b->start, b->stop,
			   b->threshold_ns);
	return 0;
}

static int tlob_monitor_open(struct inode *inode, struct file *file)
{
	return single_open(file, tlob_monitor_show, NULL);
}

static const struct file_operations tlob_monitor_fops = {
	.open = tlob_monitor_open,
	.read = seq_read,
	.write = tlob_monitor_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int enable_tlob(void)
{
	int retval;

	retval = ha_monitor_init();
	if (retval)
		return retval;
	tlob_init_slots();

	rv_attach_trace_probe("tlob", sched_switch, handle_sched_switch);
	rv_attach_trace_probe("tlob", sched_wakeup, handle_sched_wakeup);
	rv_attach_trace_probe("tlob", sched_process_exit, handle_obj_cleanup);
	rv_attach_trace_probe("tlob", error_env_tlob, handle_error_env);

	return 0;
}

static void disable_tlob(void)
{
	rv_this.enabled = 0;

	rv_detach_trace_probe("tlob", sched_switch, handle_sched_switch);
	rv_detach_trace_probe("tlob", sched_wakeup, handle_sched_wakeup);
	rv_detach_trace_probe("tlob", sched_process_exit, handle_obj_cleanup);
	rv_detach_trace_probe("tlob", error_env_tlob, handle_error_env);

	tlob_free_slots();

	ha_monitor_destroy();
}

/* The monitor as the rv interface lists it (tracefs rv/monitors/tlob/). */
static struct rv_monitor rv_this = {
	.name = "tlob",
	.description = "task latency over budget",
	.enable = enable_tlob,
	.disable = disable_tlob,
	.reset = da_monitor_reset_all,
	.enabled = 0,
};

static int __init register_tlob(void)
{
	int retval;

	retval = rv_register_monitor(&rv_this, NULL);
	if (retval)
		return retval;
	/* the binding file, beside enable and desc in the monitor's directory */
	tracefs_create_file("monitor", 0644, rv_this.root_d, NULL, &tlob_monitor_fops);
	return 0;
}

static void __exit unregister_tlob(void)
{
	tlob_remove_bindings();
	rv_unregister_monitor(&rv_this);
}

module_init(register_tlob);
module_exit(unregister_tlob);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("hamodel: auto-generated");
MODULE_DESCRIPTION("tlob: task latency over budget");

#if IS_ENABLED(CONFIG_RV_MONITORS_KUNIT_TEST)
#include <kunit/visibility.h>
#include "tlob_kunit.h"

/*
 * For the KUnit cases in tlob_kunit.c: each model event sent the way the
 * handlers above send it, with no tracepoint, so a case drives the model and
 * not the binding.
 */
static void tlob_kunit_send_preempt(struct task_struct *task)
{
	guard(preempt)();
	__this_cpu_write(tlob_event_ns, ktime_get_ns());
	da_handle_event(task->pid, NULL, preempt_tlob);
}

static void tlob_kunit_send_sleep(struct task_struct *task)
{
	guard(preempt)();
	__this_cpu_write(tlob_event_ns, ktime_get_ns());
	da_handle_event(task->pid, NULL, sleep_tlob);
}

static void tlob_kunit_send_switch_in(struct task_struct *task)
{
	guard(preempt)();
	__this_cpu_write(tlob_event_ns, ktime_get_ns());
	da_handle_event(task->pid, NULL, switch_in_tlob);
}

static void tlob_kunit_send_wakeup(struct task_struct *task)
{
	guard(preempt)();
	__this_cpu_write(tlob_event_ns, ktime_get_ns());
	da_handle_event(task->pid, NULL, wakeup_tlob);
}

/* A case's next path starts from "not monitoring". */
static void tlob_kunit_reset(struct task_struct *task)
{
	da_reset(task->pid, NULL);
}

/* The state by name, which a case compares with the model's. */
static const char *tlob_kunit_state(struct task_struct *task)
{
	struct da_monitor *da_mon;

	guard(rcu)();
	da_mon = da_get_monitor(task->pid, NULL);
	if (!da_mon || !da_monitoring(da_mon))
		return "not monitoring";
	return model_get_state_name(READ_ONCE(da_mon->curr_state));
}

/* enable_tlob() without attaching probes: the cases call the monitor directly. */
static int tlob_kunit_init(void)
{
	int retval;

	retval = ha_monitor_init();
	if (retval)
		return retval;
	tlob_init_slots();
	return 0;
}

/* disable_tlob() without the probes: every slot is freed first. */
static void tlob_kunit_destroy(void)
{
	tlob_free_slots();
	ha_monitor_destroy();
}

static u64 tlob_kunit_entered_ns(struct task_struct *task)
{
	struct da_monitor *da_mon;

	guard(rcu)();
	da_mon = da_get_monitor(task->pid, NULL);
	return da_mon ? da_get_target(da_mon)->entered_ns : 0;
}

static u64 tlob_kunit_residency_ns(struct task_struct *task)
{
	struct tlob_target *target;
	struct da_monitor *da_mon;
	u64 spent_ns = 0;

	guard(rcu)();
	da_mon = da_get_monitor(task->pid, NULL);
	if (!da_mon)
		return 0;
	target = da_get_target(da_mon);
	for (int i = 0; i < state_max_tlob; i++)
		spent_ns += target->residency_ns[i];
	return spent_ns;
}

static int tlob_kunit_parse_binding(char *line, struct rv_tlob_kunit_line *out)
{
	struct tlob_binding_line b = { };
	int ret;

	ret = tlob_parse_binding(line, &b);
	if (ret)
		return ret;
	out->remove = b.remove;
	out->path = b.path;
	out->start = b.start;
	out->stop = b.stop;
	out->threshold_ns = b.threshold_ns;
	return 0;
}

const struct rv_tlob_ops rv_tlob_ops = {
	.mon = {
		.rv_this = &rv_this,
		.monitor_init = tlob_kunit_init,
		.monitor_destroy = tlob_kunit_destroy,
	},
	.send_preempt = tlob_kunit_send_preempt,
	.send_sleep = tlob_kunit_send_sleep,
	.send_switch_in = tlob_kunit_send_switch_in,
	.send_wakeup = tlob_kunit_send_wakeup,
	.reset = tlob_kunit_reset,
	.state = tlob_kunit_state,
	.start_task = tlob_start_task,
	.stop_task = tlob_stop_task,
	.entered_ns = tlob_kunit_entered_ns,
	.residency_ns = tlob_kunit_residency_ns,
	.parse_binding = tlob_kunit_parse_binding,
};
EXPORT_SYMBOL_IF_KUNIT(rv_tlob_ops);
#endif
