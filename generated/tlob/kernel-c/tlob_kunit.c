// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the tlob monitor, generated with it by hamodel: tlob.c
 * includes this file (CONFIG_RV_MON_TLOB_KUNIT_TEST) to reach its static
 * functions. The cases drive the monitor with a task no scheduler event
 * names, so the kernel's own events never reach its monitor.
 */
#include <kunit/test.h>

struct tlob_kunit_parse_case {
	const char *line;
	int ret;
	bool remove;
	const char *path;
	u64 start;
	u64 stop;
	u64 threshold_ns;
};

/* Expected values from the reference parser in hamodel/gen/kernel_objects.py. */
static const struct tlob_kunit_parse_case tlob_kunit_parse_cases[] = {
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=5000000",
		.ret = 0,
		.remove = false,
		.path = "/usr/bin/app",
		.start = 4096,
		.stop = 4112,
		.threshold_ns = 5000000ull,
	},
	{
		.line = "p /usr/bin/app:4096 4112 threshold=1000",
		.ret = 0,
		.remove = false,
		.path = "/usr/bin/app",
		.start = 4096,
		.stop = 4112,
		.threshold_ns = 1000ull,
	},
	{
		.line = "p /usr/bin/app:0X1a 0x1B threshold=3600000000000",
		.ret = 0,
		.remove = false,
		.path = "/usr/bin/app",
		.start = 26,
		.stop = 27,
		.threshold_ns = 3600000000000ull,
	},
	{
		.line = "  p\t/opt/a:b/app:0x10  0x20 threshold=5000000\n",
		.ret = 0,
		.remove = false,
		.path = "/opt/a:b/app",
		.start = 16,
		.stop = 32,
		.threshold_ns = 5000000ull,
	},
	{
		.line = "-/usr/bin/app:0x1000",
		.ret = 0,
		.remove = true,
		.path = "/usr/bin/app",
		.start = 4096,
	},
	{
		.line = "-/usr/bin/app:4096\n",
		.ret = 0,
		.remove = true,
		.path = "/usr/bin/app",
		.start = 4096,
	},
	{
		.line = "p usr/bin/app:0x1000 0x1010 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app 0x1010 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1000 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 4096 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x 0x1010 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x10g threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:-1 0x1010 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=0x10",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 budget=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=5000000 extra",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010",
		.ret = -EINVAL,
	},
	{
		.line = "q /usr/bin/app:0x1000 0x1010 threshold=5000000",
		.ret = -EINVAL,
	},
	{
		.line = "-/usr/bin/app:0x1000 0x1010",
		.ret = -EINVAL,
	},
	{
		.line = "-usr/bin/app:0x1000",
		.ret = -EINVAL,
	},
	{
		.line = "",
		.ret = -EINVAL,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=18446744073709551616",
		.ret = -ERANGE,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=999",
		.ret = -ERANGE,
	},
	{
		.line = "p /usr/bin/app:0x1000 0x1010 threshold=3600000000001",
		.ret = -ERANGE,
	},
};

static void tlob_kunit_parse(struct kunit *test)
{
	const struct tlob_kunit_parse_case *c;
	struct tlob_binding_line b;
	char line[256];

	for (size_t i = 0; i < ARRAY_SIZE(tlob_kunit_parse_cases); i++) {
		c = &tlob_kunit_parse_cases[i];
		memset(&b, 0, sizeof(b));
		strscpy(line, c->line, sizeof(line));
		KUNIT_EXPECT_EQ_MSG(test, tlob_parse_binding(line, &b), c->ret,
				    "line \"%s\"", c->line);
		if (c->ret)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, b.remove, c->remove, "line \"%s\"", c->line);
		KUNIT_EXPECT_STREQ_MSG(test, b.path, c->path, "line \"%s\"", c->line);
		KUNIT_EXPECT_EQ_MSG(test, b.start, c->start, "line \"%s\"", c->line);
		if (c->remove)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, b.stop, c->stop, "line \"%s\"", c->line);
		KUNIT_EXPECT_EQ_MSG(test, b.threshold_ns, c->threshold_ns, "line \"%s\"", c->line);
	}
}

static struct task_struct *tlob_kunit_task(struct kunit *test)
{
	struct task_struct *task = kunit_kzalloc(test, sizeof(*task), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, task);
	/* no real task has this pid */
	task->pid = -1;
	return task;
}

/* The state of the monitor of @task, state_max_tlob when it is not monitoring. */
static int tlob_kunit_state(struct task_struct *task)
{
	struct da_monitor *da_mon;

	guard(rcu)();
	da_mon = da_get_monitor(task->pid, NULL);
	if (!da_mon || !da_monitoring(da_mon))
		return state_max_tlob;
	return da_mon->curr_state;
}

/* When the monitor of @task entered its current state. */
static u64 tlob_kunit_entered_ns(struct task_struct *task)
{
	guard(rcu)();
	return da_get_target(da_get_monitor(task->pid, NULL))->entered_ns;
}

/* The time accounted to the states adds up to the time from the start to the last move. */
static void tlob_kunit_expect_residency(struct kunit *test, struct task_struct *task,
					u64 start_ns)
{
	struct tlob_target *target;
	u64 spent_ns = 0;

	guard(rcu)();
	target = da_get_target(da_get_monitor(task->pid, NULL));
	for (int i = 0; i < state_max_tlob; i++)
		spent_ns += target->residency_ns[i];
	KUNIT_EXPECT_EQ(test, spent_ns, target->entered_ns - start_ns);
}

/* Send @event to the monitor of @task as a tracepoint handler does. */
static void tlob_kunit_event(struct task_struct *task, enum events_tlob event)
{
	guard(preempt)();
	__this_cpu_write(tlob_event_ns, ktime_get_ns());
	da_handle_event(task->pid, NULL, event);
}

static void tlob_kunit_start_stop(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);

	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), -ESRCH);
	KUNIT_EXPECT_EQ(test, tlob_start_task(task, TLOB_THRESHOLD_NS_MIN - 1), -ERANGE);
	KUNIT_EXPECT_EQ(test, tlob_start_task(task, TLOB_THRESHOLD_NS_MAX + 1), -ERANGE);
	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	KUNIT_EXPECT_EQ(test, tlob_start_task(task, 1000000000ull), -EALREADY);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), running_tlob);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), -ESRCH);

	/* a violation ends monitoring: the stop reports it */
	tlob_flush_retiring();
	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	tlob_kunit_event(task, switch_in_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), state_max_tlob);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), -EOVERFLOW);
}

static void tlob_kunit_running_preempt(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);
	u64 start_ns;

	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	start_ns = tlob_kunit_entered_ns(task);
	tlob_kunit_event(task, preempt_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), waiting_tlob);
	tlob_kunit_expect_residency(test, task, start_ns);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
}

static void tlob_kunit_running_sleep(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);
	u64 start_ns;

	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	start_ns = tlob_kunit_entered_ns(task);
	tlob_kunit_event(task, sleep_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), sleeping_tlob);
	tlob_kunit_expect_residency(test, task, start_ns);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
}

static void tlob_kunit_running_wakeup(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);
	u64 start_ns;

	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	start_ns = tlob_kunit_entered_ns(task);
	tlob_kunit_event(task, wakeup_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), running_tlob);
	tlob_kunit_expect_residency(test, task, start_ns);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
}

static void tlob_kunit_sleeping_wakeup(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);
	u64 start_ns;

	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	start_ns = tlob_kunit_entered_ns(task);
	tlob_kunit_event(task, sleep_tlob);
	tlob_kunit_event(task, wakeup_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), waiting_tlob);
	tlob_kunit_expect_residency(test, task, start_ns);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
}

static void tlob_kunit_waiting_switch_in(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);
	u64 start_ns;

	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	start_ns = tlob_kunit_entered_ns(task);
	tlob_kunit_event(task, preempt_tlob);
	tlob_kunit_event(task, switch_in_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), running_tlob);
	tlob_kunit_expect_residency(test, task, start_ns);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
}

static void tlob_kunit_waiting_wakeup(struct kunit *test)
{
	struct task_struct *task = tlob_kunit_task(test);
	u64 start_ns;

	KUNIT_ASSERT_EQ(test, tlob_start_task(task, 1000000000ull), 0);
	start_ns = tlob_kunit_entered_ns(task);
	tlob_kunit_event(task, preempt_tlob);
	tlob_kunit_event(task, wakeup_tlob);
	KUNIT_EXPECT_EQ(test, tlob_kunit_state(task), waiting_tlob);
	tlob_kunit_expect_residency(test, task, start_ns);
	KUNIT_EXPECT_EQ(test, tlob_stop_task(task), 0);
}

/* The cases call the monitor's functions directly: it must be enabled, by them. */
static int tlob_kunit_init(struct kunit *test)
{
	int ret;

	if (READ_ONCE(rv_this.enabled))
		return -EBUSY;
	ret = enable_tlob();
	if (!ret)
		WRITE_ONCE(rv_this.enabled, 1);
	return ret;
}

static void tlob_kunit_exit(struct kunit *test)
{
	disable_tlob();
}

static struct kunit_case tlob_kunit_cases[] = {
	KUNIT_CASE(tlob_kunit_parse),
	KUNIT_CASE(tlob_kunit_start_stop),
	KUNIT_CASE(tlob_kunit_running_preempt),
	KUNIT_CASE(tlob_kunit_running_sleep),
	KUNIT_CASE(tlob_kunit_running_wakeup),
	KUNIT_CASE(tlob_kunit_sleeping_wakeup),
	KUNIT_CASE(tlob_kunit_waiting_switch_in),
	KUNIT_CASE(tlob_kunit_waiting_wakeup),
	{}
};

static struct kunit_suite tlob_kunit_suite = {
	.name = "rv_tlob",
	.init = tlob_kunit_init,
	.exit = tlob_kunit_exit,
	.test_cases = tlob_kunit_cases,
};

kunit_test_suite(tlob_kunit_suite);
