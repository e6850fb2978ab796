// SPDX-License-Identifier: GPL-2.0
/*
 * Runs a whole generated per_obj monitor source with start/stop markers
 * (<m>.c: handlers, start/stop, residency, tracefs binding file, KUnit cases)
 * against the stand-ins of tests/harness/kernel/.  tests/harness/objects.py
 * writes names.h (which names the generated functions) and rv_trace.h (the
 * tracepoints, printing one line each), and compares the output with
 * hamodel.semantics.
 *
 *   obj_driver run     input lines "T op args": switch PREV NEXT PREEMPT STATE,
 *                      wakeup PID, exit PID, start PID VALUE, stop PID, enable,
 *                      disable, write TEXT, read, hit PID OFFSET (a uprobe),
 *                      pause PID (its next event's handler stops after its
 *                      da_monitoring() check, as if on another CPU), resume
 *   obj_driver parse   input lines: binding lines, hex-encoded
 *   obj_driver kunit   runs the generated KUnit suite
 *
 * Before each input line, an RCU grace period ends unless a paused handler is
 * inside (pending rcu_work runs), then the timers due by its time fire in
 * deadline order, then in id order (the semantics' order of first use when ids are used in
 * increasing order).
 */
#include "names.h"
#include HARNESS_SOURCE

#define HARNESS_TASKS 64

static struct task_struct tasks[HARNESS_TASKS];

static struct task_struct *task(const char *word)
{
	int pid = atoi(word);

	if (pid <= 0 || pid >= HARNESS_TASKS) {
		fprintf(stderr, "bad pid %s\n", word);
		exit(2);
	}
	return &tasks[pid];
}

static void advance(u64 t)
{
	harness_grace_period();
	t += harness_epoch;
	for (;;) {
		struct da_monitor_storage *due = NULL;

		for (int i = 0; i < HARNESS_STORAGE; i++) {
			struct da_monitor_storage *s = &harness_storage[i];

			if (!s->used || !s->ha_mon.da_mon.monitoring || !s->ha_mon.timer_armed ||
			    s->ha_mon.timer_expires_ns > t)
				continue;
			if (!due || s->ha_mon.timer_expires_ns < due->ha_mon.timer_expires_ns ||
			    (s->ha_mon.timer_expires_ns == due->ha_mon.timer_expires_ns &&
			     s->id < due->id))
				due = s;
		}
		if (!due)
			break;
		harness_now = due->ha_mon.timer_expires_ns;
		due->ha_mon.timer_armed = false;
		harness_timer_callback(due);
	}
	harness_now = t;
}

static void enable(void)
{
	if (!rv_this.enable())
		rv_this.enabled = 1;
}

static unsigned long long now(void)
{
	return harness_now - harness_epoch;
}

static void read_file(void)
{
	struct seq_file s = { .len = 0 };
	char *line, *rest;

	harness_monitor_fops->open(NULL, NULL);
	harness_seq_show(&s, NULL);
	rest = s.buf;
	while ((line = strsep(&rest, "\n")) && (*line || rest))
		printf("read %s\n", line);
}

static void write_file(char *text)
{
	loff_t pos = 0;
	ssize_t ret;

	ret = harness_monitor_fops->write(NULL, text, strlen(text), &pos);
	printf("write %llu %zd\n", now(), ret < 0 ? ret : 0);
}

static void hit(struct task_struct *t, loff_t offset)
{
	current = t;
	for (size_t i = 0; i < ARRAY_SIZE(harness_uprobes); i++) {
		struct uprobe *u = &harness_uprobes[i];

		if (u->used && u->offset == offset)
			u->uc->handler(u->uc, NULL, NULL);
	}
}

static int run(void)
{
	char line[8192];

	if (harness_module_init())
		return 1;
	enable();
	while (fgets(line, sizeof(line), stdin)) {
		unsigned long long t, value;
		char op[32], a[32], b[32], c[32], d[32];
		int used = 0;

		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "%llu %31s %n", &t, op, &used) < 2)
			return 2;
		advance(t);
		if (!strcmp(op, "switch") && sscanf(line + used, "%31s %31s %31s %31s", a, b, c, d) == 4) {
			if (harness_probe_sched_switch)
				harness_probe_sched_switch(NULL, atoi(c), task(a), task(b), atoi(d));
		} else if (!strcmp(op, "wakeup") && sscanf(line + used, "%31s", a) == 1) {
			if (harness_probe_sched_wakeup)
				harness_probe_sched_wakeup(NULL, task(a));
		} else if (!strcmp(op, "exit") && sscanf(line + used, "%31s", a) == 1) {
			if (harness_probe_sched_process_exit)
				harness_probe_sched_process_exit(NULL, task(a), false);
		} else if (!strcmp(op, "start") && sscanf(line + used, "%31s %llu", a, &value) == 2) {
			printf("start %llu %s %d\n", t, a, harness_start_task(task(a), value));
		} else if (!strcmp(op, "stop") && sscanf(line + used, "%31s", a) == 1) {
			printf("stop %llu %s %d\n", t, a, harness_stop_task(task(a)));
		} else if (!strcmp(op, "enable")) {
			enable();
		} else if (!strcmp(op, "disable")) {
			rv_this.disable();
		} else if (!strcmp(op, "write")) {
			write_file(line + used);
		} else if (!strcmp(op, "read")) {
			read_file();
		} else if (!strcmp(op, "pause") && sscanf(line + used, "%31s", a) == 1) {
			harness_pause = true;
			harness_pause_id = task(a)->pid;
		} else if (!strcmp(op, "resume")) {
			harness_resume();
		} else if (!strcmp(op, "hit") && sscanf(line + used, "%31s %llu", a, &value) == 2) {
			hit(task(a), value);
		} else {
			fprintf(stderr, "bad line: %s\n", line);
			return 2;
		}
	}
	harness_module_exit();
	return 0;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static int parse(void)
{
	char hex[8192], line[4096];

	while (fgets(hex, sizeof(hex), stdin)) {
		struct harness_binding_line b = { 0 };
		size_t n = strcspn(hex, "\n") / 2;
		int ret;

		for (size_t i = 0; i < n; i++)
			line[i] = hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]);
		line[n] = '\0';
		ret = harness_parse_binding(line, &b);
		if (ret)
			printf("%d\n", ret);
		else if (b.remove)
			printf("0 remove %s %lld\n", b.path, (long long)b.start);
		else
			printf("0 add %s %lld %lld %llu\n", b.path, (long long)b.start,
			       (long long)b.stop, (unsigned long long)HARNESS_BINDING_VALUE(b));
	}
	return 0;
}

static int kunit(void)
{
	int failed = 0;

	for (struct kunit_case *c = harness_kunit_suite->test_cases; c->run_case; c++) {
		struct kunit test = { .name = c->name };

		if (harness_kunit_suite->init(&test)) {
			printf("not ok %s (init)\n", c->name);
			failed = 1;
			continue;
		}
		c->run_case(&test);
		harness_kunit_suite->exit(&test);
		for (int i = 0; i < test.n_allocations; i++)
			free(test.allocations[i]);
		printf("%s %s\n", test.failed ? "not ok" : "ok", c->name);
		failed |= test.failed;
	}
	return failed;
}

int main(int argc, char **argv)
{
	harness_tick_ns = 4000000;
	harness_epoch = 1ull << 50; /* 13 days of uptime: now - expire never wraps, even for 1 h */
	harness_now = harness_epoch;
	for (int i = 0; i < HARNESS_TASKS; i++)
		tasks[i].pid = i;
	if (argc > 1 && !strcmp(argv[1], "parse"))
		return parse();
	if (argc > 1 && !strcmp(argv[1], "kunit")) {
		/* time passes between the events of a case, so residency is not all zero */
		harness_ns_per_read = 1000;
		return kunit();
	}
	return run();
}
