// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit cases of the tlob monitor, generated with it by hamodel.
 * kernel/trace/rv/rv_monitors_test.c includes this file and lists its cases;
 * they send model events to mock tasks through rv_tlob_ops (tlob.c)
 * and count the monitor's reactions.
 */
#include <linux/kernel.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/rv.h>
#include <linux/sched.h>
#include <rv/kunit.h>
#include "tlob_kunit.h"

#if IS_REACHABLE(CONFIG_RV_MON_TLOB)

/* Until more than @ns have passed since @from: the ns check then fails. */
static void rv_tlob_kunit_wait_ns(u64 from, u64 ns)
{
	while (ktime_get_ns() - from <= ns)
		udelay(1);
}

struct rv_tlob_kunit_parse_case {
	const char *line;
	int ret;
	bool remove;
	const char *path;
	u64 start;
	u64 stop;
	u64 threshold_ns;
};

/* Expected values from the reference parser in hamodel/gen/kernel_objects.py. */
static const struct rv_tlob_kunit_parse_case rv_tlob_kunit_parse_cases[] = {
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

/*
 * Each edge of the model, after a path from the initial state: no
 * reaction, and the monitor ends in the edge's target state.
 */
static void rv_test_tlob(struct kunit *test)
{
	struct task_struct *task = rv_kunit_alloc_mock_task(test);
	struct rv_kunit_ctx *ctx = test->priv;
	u64 long_threshold_ns = clamp_t(u64, ktime_get_ns() / 2, 1000ull, 3600000000000ull);
	u64 start_ns;

	task->pid = 1001;
	prepare_test(test, &rv_tlob_ops.mon);

	/* running --preempt--> waiting */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	start_ns = rv_tlob_ops.entered_ns(task);
	rv_tlob_ops.send_preempt(task);
	RV_KUNIT_EXPECT_NO_REACTION(test, ctx);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "waiting");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.residency_ns(task),
			rv_tlob_ops.entered_ns(task) - start_ns);

	/* running --sleep--> sleeping */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	start_ns = rv_tlob_ops.entered_ns(task);
	rv_tlob_ops.send_sleep(task);
	RV_KUNIT_EXPECT_NO_REACTION(test, ctx);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "sleeping");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.residency_ns(task),
			rv_tlob_ops.entered_ns(task) - start_ns);

	/* running --wakeup--> running */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	start_ns = rv_tlob_ops.entered_ns(task);
	rv_tlob_ops.send_wakeup(task);
	RV_KUNIT_EXPECT_NO_REACTION(test, ctx);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "running");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.residency_ns(task),
			rv_tlob_ops.entered_ns(task) - start_ns);

	/* sleeping --wakeup--> waiting */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	start_ns = rv_tlob_ops.entered_ns(task);
	rv_tlob_ops.send_sleep(task);
	rv_tlob_ops.send_wakeup(task);
	RV_KUNIT_EXPECT_NO_REACTION(test, ctx);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "waiting");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.residency_ns(task),
			rv_tlob_ops.entered_ns(task) - start_ns);

	/* waiting --switch_in--> running */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	start_ns = rv_tlob_ops.entered_ns(task);
	rv_tlob_ops.send_preempt(task);
	rv_tlob_ops.send_switch_in(task);
	RV_KUNIT_EXPECT_NO_REACTION(test, ctx);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "running");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.residency_ns(task),
			rv_tlob_ops.entered_ns(task) - start_ns);

	/* waiting --wakeup--> waiting */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	start_ns = rv_tlob_ops.entered_ns(task);
	rv_tlob_ops.send_preempt(task);
	rv_tlob_ops.send_wakeup(task);
	RV_KUNIT_EXPECT_NO_REACTION(test, ctx);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "waiting");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.residency_ns(task),
			rv_tlob_ops.entered_ns(task) - start_ns);
}

/*
 * The return codes of tlob_start_task() and tlob_stop_task().
 */
static void rv_test_tlob_start_stop(struct kunit *test)
{
	struct task_struct *task = rv_kunit_alloc_mock_task(test);
	struct task_struct *other = rv_kunit_alloc_mock_task(test);
	struct rv_kunit_ctx *ctx = test->priv;
	u64 long_threshold_ns = clamp_t(u64, ktime_get_ns() / 2, 1000ull, 3600000000000ull);

	task->pid = 1001;
	other->pid = 1002;
	prepare_test(test, &rv_tlob_ops.mon);

	KUNIT_EXPECT_EQ(test, rv_tlob_ops.stop_task(task), -ESRCH);
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.start_task(task, 999ull), -ERANGE);
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.start_task(task, 3600000000001ull), -ERANGE);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), -EALREADY);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "running");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.stop_task(task), 0);
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.stop_task(task), -ESRCH);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(task), "not monitoring");

	/* a violation ends monitoring: the stop reports it */
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(other, long_threshold_ns), 0);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_switch_in(other);
	KUNIT_EXPECT_STREQ(test, rv_tlob_ops.state(other), "not monitoring");
	KUNIT_EXPECT_EQ(test, rv_tlob_ops.stop_task(other), -EOVERFLOW);
}

/*
 * Lines of the binding file, with what the parser must make of them
 * (expected values from hamodel's reference parser).
 */
static void rv_test_tlob_parse(struct kunit *test)
{
	const struct rv_tlob_kunit_parse_case *c;
	struct rv_tlob_kunit_line b;
	char line[256];

	for (size_t i = 0; i < ARRAY_SIZE(rv_tlob_kunit_parse_cases); i++) {
		c = &rv_tlob_kunit_parse_cases[i];
		memset(&b, 0, sizeof(b));
		strscpy(line, c->line, sizeof(line));
		KUNIT_EXPECT_EQ_MSG(test, rv_tlob_ops.parse_binding(line, &b), c->ret,
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

/*
 * Each event a state has no edge for, after a path to that state: one
 * reaction.
 */
static void rv_test_tlob_refused(struct kunit *test)
{
	struct task_struct *task = rv_kunit_alloc_mock_task(test);
	struct rv_kunit_ctx *ctx = test->priv;
	u64 long_threshold_ns = clamp_t(u64, ktime_get_ns() / 2, 1000ull, 3600000000000ull);

	task->pid = 1001;
	prepare_test(test, &rv_tlob_ops.mon);

	/* running refuses switch_in */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_switch_in(task);

	/* sleeping refuses preempt */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	rv_tlob_ops.send_sleep(task);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_preempt(task);

	/* sleeping refuses sleep */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	rv_tlob_ops.send_sleep(task);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_sleep(task);

	/* sleeping refuses switch_in */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	rv_tlob_ops.send_sleep(task);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_switch_in(task);

	/* waiting refuses preempt */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	rv_tlob_ops.send_preempt(task);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_preempt(task);

	/* waiting refuses sleep */
	rv_tlob_ops.reset(task);
	KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, long_threshold_ns), 0);
	rv_tlob_ops.send_preempt(task);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx)
		rv_tlob_ops.send_sleep(task);
}

/*
 * Each state whose invariant a case can overrun: past a tiny bound, the
 * timer or the next event's check reacts, exactly once.  The case stays on
 * one CPU, where the monitor's timer is armed.
 */
static void rv_test_tlob_overrun(struct kunit *test)
{
	struct task_struct *task = rv_kunit_alloc_mock_task(test);
	struct rv_kunit_ctx *ctx = test->priv;

	task->pid = 1001;
	prepare_test(test, &rv_tlob_ops.mon);
	/* the timer is armed on this CPU: the case stays on it */
	guard(migrate)();

	/* running: clk_elapsed past a tiny bound */
	rv_tlob_ops.reset(task);
	RV_KUNIT_EXPECT_REACTION_HERE(test, ctx) {
		KUNIT_ASSERT_EQ(test, rv_tlob_ops.start_task(task, 1000ull), 0);
		rv_tlob_kunit_wait_ns(ktime_get_ns(), 1000ull);
		scoped_guard(irqsave)
			rv_tlob_ops.send_preempt(task);
	}
}

#else
#define rv_test_tlob rv_test_stub
#define rv_test_tlob_start_stop rv_test_stub
#define rv_test_tlob_parse rv_test_stub
#define rv_test_tlob_refused rv_test_stub
#define rv_test_tlob_overrun rv_test_stub
#endif
