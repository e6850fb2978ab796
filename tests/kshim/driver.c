// SPDX-License-Identifier: GPL-2.0
/*
 * Runs one monitor, compiled with the verbatim RV framework headers on kshim,
 * through timed input lines and prints what the kernel would: trace events,
 * reactions and warnings, each line prefixed with the virtual time in ns.
 *
 * The build (tests/kshim/__init__.py) writes kshim_build.h, which includes
 * the monitor source and says what it offers (KSHIM_MODEL: direct
 * da_handle_*() calls; KSHIM_START/KSHIM_STOP: a monitor's own start and
 * stop; KSHIM_KUNIT: the KUnit suites of rv_monitors_test.c).
 *
 * Input: "T [@CPU] OP ARGS"; before OP runs, an RCU grace period ends and
 * the timers due by T fire (kshim_advance).
 *   enable | disable | idle
 *   env I V            value V for read-only env I of the next calls
 *   param I V          value V for model parameter I
 *   handle KIND OBJ E  da_handle_{event,start_event,start_run_event}(OBJ, E)
 *   reset OBJ          da_reset() (per-task and per-object monitors)
 *   destroy OBJ        da_destroy_storage() (per-object monitors)
 *   switch PREV NEXT PREEMPT PREV_STATE | wakeup PID | exit PID   tracepoints
 *   start PID VALUE | stop PID | hit PID OFFSET | write TEXT | read
 *   setup ATOM INIT NEW FETCHED | fork PID | prop PID ATOM V |
 *   update PID ATOM V | pulse PID ATOM V | set PID ATOM V
 *                      an LTL monitor (KSHIM_LTL): what its ltl_atoms_init() and
 *                      ltl_atoms_fetch() do, task_newtask, what a fetch reads,
 *                      ltl_atom_update/_pulse/_set()
 *   pause              the next line runs on a second thread, as a handler on
 *                      another CPU (CPU 1 unless the line says), and stops at its
 *                      first compare-and-exchange until
 *   resume             lets it finish (so does any wait for a grace period)
 * After every line, "T state OBJ on|off STATE STORE..." for each object the
 * line named (model monitors); "T ltl PID STATES ATOMS UNKNOWN" (LTL).
 * Options: -l LATENCY_NS -t (timers first at a tie) -c (wheel clock ahead),
 * -u UPTIME_NS (the clock at the start); a last argument "parse" or "kunit"
 * runs the binding-line parser or the KUnit suite instead, "tables" prints an
 * LTL monitor's ltl_start() and ltl_possible_next_states() for all atoms.
 */
#include <pthread.h> /* before the kernel's names: see kshim/time.h */
#include <unistd.h>
#include "kshim_build.h"

/* --- the RV core functions the framework headers declare ------------------------ */

static bool kshim_rv_on = true;
static int kshim_task_slot_used;
static struct dentry kshim_root_dentry;

bool rv_monitoring_on(void)
{
	return kshim_rv_on;
}

int rv_register_monitor(struct rv_monitor *monitor, struct rv_monitor *parent)
{
	monitor->root_d = &kshim_root_dentry;
	return 0;
}

int rv_unregister_monitor(struct rv_monitor *monitor)
{
	return 0;
}

int rv_get_task_monitor_slot(void)
{
	for (int i = 0; i < CONFIG_RV_PER_TASK_MONITORS; i++) {
		if (!(kshim_task_slot_used & (1 << i))) {
			kshim_task_slot_used |= 1 << i;
			return i;
		}
	}
	return -EBUSY;
}

void rv_put_task_monitor_slot(int slot)
{
	kshim_task_slot_used &= ~(1 << slot);
}

/*
 * The reaction, as the printk reactor would print it; then the monitor's own
 * react(), which a KUnit case sets to count reactions (rv_reactors.c calls
 * only that one).
 */
void rv_react(struct rv_monitor *monitor, const char *msg, ...)
{
	char line[512];
	va_list args;

	va_start(args, msg);
	vsnprintf(line, sizeof(line), msg, args);
	va_end(args);
	kshim_log("react", "%s", line);
	if (monitor->react) {
		va_start(args, msg);
		monitor->react(msg, args);
		va_end(args);
	}
}

/* The containers the monitors may register under (monitors/<c>/<c>.c). */
struct rv_monitor rv_sched = { .name = "sched" };
struct rv_monitor rv_deadline = { .name = "deadline" };
struct sched_class *rv_ext_sched_class;

#ifdef KSHIM_KUNIT
/*
 * rv.c's KUnit support (rv.c itself is not compiled): the suite runs while no
 * monitor is enabled, and rv_get_current() may return a mock task.
 */
static struct task_struct *kshim_mock_current;

int rv_set_testing(struct kunit_suite *suite)
{
	return rv_this.enabled ? -EBUSY : 0;
}

void rv_clear_testing(struct kunit_suite *suite)
{
}

void rv_mock_current(struct task_struct *tsk)
{
	kshim_mock_current = tsk;
}

struct task_struct *rv_get_mock_current(void)
{
	return kshim_mock_current ?: current;
}
#endif

/* --- objects the input names --------------------------------------------------------- */

#ifdef KSHIM_MODEL
#ifndef KSHIM_START_EVENT
#define KSHIM_START_EVENT da_handle_start_event
#endif
#if RV_MON_TYPE == RV_MON_PER_OBJ
struct kshim_object {
	int id;
};

static struct kshim_object kshim_objects[KSHIM_TASKS];
#endif




static struct da_monitor *kshim_monitor_of(int obj)
{
#if RV_MON_TYPE == RV_MON_GLOBAL || RV_MON_TYPE == RV_MON_PER_CPU
	return da_get_monitor();
#elif RV_MON_TYPE == RV_MON_PER_TASK
	return da_get_monitor(&kshim_tasks[obj]);
#else
	guard(rcu)();
	return da_get_monitor(obj, &kshim_objects[obj]);
#endif
}

static void kshim_handle(const char *kind, int obj, int event)
{
#if RV_MON_TYPE == RV_MON_GLOBAL || RV_MON_TYPE == RV_MON_PER_CPU
#define KSHIM_TARGET
#elif RV_MON_TYPE == RV_MON_PER_TASK
#define KSHIM_TARGET &kshim_tasks[obj],
#else
#define KSHIM_TARGET obj, &kshim_objects[obj],
#endif
	if (!strcmp(kind, "event"))
		da_handle_event(KSHIM_TARGET event);
	else if (!strcmp(kind, "start_event"))
		KSHIM_START_EVENT(KSHIM_TARGET event);
	else if (!strcmp(kind, "start_run_event"))
		da_handle_start_run_event(KSHIM_TARGET event);
	else
		kshim_die("unknown handler kind");
}

/* A monitor not monitoring is in its initial state (da_monitor_reset_state()). */
static void kshim_print_state(int obj)
{
	struct da_monitor *da_mon = kshim_monitor_of(obj);

	if (!da_mon || !da_mon->monitoring) {
		if (da_mon && da_mon->curr_state != model_get_initial_state())
			kshim_die("a monitor not monitoring is not in its initial state");
		printf("%llu state %d off\n", kshim_now_ns, obj);
		return;
	}
	printf("%llu state %d on %s", kshim_now_ns, obj, model_get_state_name(da_mon->curr_state));
#ifdef KSHIM_HYBRID
	for (int i = 0; i < ENV_MAX_STORED; i++)
		printf(" %llu", to_ha_monitor(da_mon)->env_store[i]);
#endif
	printf("\n");
}

/*
 * What a monitor's own start routine does: da_monitor_start(), and for a
 * model whose initial arrow resets clocks, the generated set-up.
 */
static int kshim_begin(int obj)
{
	struct da_monitor *da_mon;

	if (!da_monitor_enabled())
		return -ENODEV;
#if RV_MON_TYPE == RV_MON_PER_OBJ
	da_create_or_get(obj, &kshim_objects[obj]);
#endif
	da_mon = kshim_monitor_of(obj);
	if (da_monitoring(da_mon))
		return -EALREADY;
	da_monitor_start(da_mon);
#ifdef KSHIM_INIT_SETUP
	ha_setup_initial_state(to_ha_monitor(da_mon), ha_get_ns());
#endif
	return 0;
}
#endif /* KSHIM_MODEL */

static struct task_struct *kshim_task(const char *word)
{
	int pid = atoi(word);

	if (pid <= 0 || pid >= KSHIM_TASKS) {
		fprintf(stderr, "bad pid %s\n", word);
		exit(2);
	}
	return &kshim_tasks[pid];
}

#ifdef KSHIM_LTL
/*
 * An LTL monitor on include/rv/ltl_monitor.h, driven the way its generated
 * handlers drive it: ltl_atom_update(), ltl_atom_pulse(), ltl_atom_set().
 * What a monitor's own ltl_atoms_init() and ltl_atoms_fetch() do is set by
 * "setup ATOM INIT NEW FETCHED": the value init gives the atom (-1: none),
 * whether only at a fork, and whether fetch reads it from the task, where
 * "prop" puts what such a read finds.
 */
static int kshim_ltl_init[LTL_NUM_ATOM] = { [0 ... LTL_NUM_ATOM - 1] = -1 };
static bool kshim_ltl_new_only[LTL_NUM_ATOM];
static bool kshim_ltl_fetched[LTL_NUM_ATOM];
static bool kshim_ltl_props[KSHIM_TASKS][LTL_NUM_ATOM];

static void ltl_atoms_fetch(struct task_struct *task, struct ltl_monitor *mon)
{
	for (int i = 0; i < LTL_NUM_ATOM; i++) {
		if (kshim_ltl_fetched[i])
			ltl_atom_set(mon, i, kshim_ltl_props[task->pid][i]);
	}
}

static void ltl_atoms_init(struct task_struct *task, struct ltl_monitor *mon, bool task_creation)
{
	for (int i = 0; i < LTL_NUM_ATOM; i++) {
		if (kshim_ltl_init[i] >= 0 && (task_creation || !kshim_ltl_new_only[i]))
			ltl_atom_set(mon, i, kshim_ltl_init[i]);
	}
}

static int kshim_ltl_enable(void)
{
	return ltl_monitor_init();
}

static void kshim_ltl_disable(void)
{
	rv_this.enabled = 0;
	ltl_monitor_destroy();
}

static struct rv_monitor rv_this = {
	.name = __stringify(MONITOR_NAME),
	.enable = kshim_ltl_enable,
	.disable = kshim_ltl_disable,
};

static int __init kshim_ltl_register(void)
{
	return rv_register_monitor(&rv_this, NULL);
}
module_init(kshim_ltl_register);

/* "T ltl PID STATES ATOMS UNKNOWN": the task's bitmaps, the atoms it knows only. */
static void kshim_ltl_print(struct task_struct *task)
{
	struct ltl_monitor *mon = ltl_get_monitor(task);

	printf("%llu ltl %d %lx %lx %lx\n", kshim_now_ns, task->pid, mon->states[0],
	       mon->atoms[0] & ~mon->unknown_atoms[0], mon->unknown_atoms[0]);
}

/*
 * setup ATOM INIT NEW FETCHED | fork PID | prop PID ATOM V | update PID ATOM V |
 * pulse PID ATOM V | set PID ATOM V
 */
static int kshim_ltl_exec(const char *op, const char *line)
{
	int atom = 0, value = 0, new_only, fetched;
	struct task_struct *task;
	char pid[32];

	if (!strcmp(op, "setup")) {
		if (sscanf(line, "%d %d %d %d", &atom, &value, &new_only, &fetched) != 4 ||
		    atom < 0 || atom >= LTL_NUM_ATOM)
			return -1;
		kshim_ltl_init[atom] = value;
		kshim_ltl_new_only[atom] = new_only;
		kshim_ltl_fetched[atom] = fetched;
		return 0;
	}
	if (!strcmp(op, "fork")) {
		if (sscanf(line, "%31s", pid) != 1)
			return -1;
	} else if (sscanf(line, "%31s %d %d", pid, &atom, &value) != 3 || atom < 0 ||
		   atom >= LTL_NUM_ATOM || (value != 0 && value != 1)) {
		return -1;
	}
	task = kshim_task(pid);
	if (!strcmp(op, "fork"))
		trace_task_newtask(task, 0);
	else if (!strcmp(op, "prop"))
		kshim_ltl_props[task->pid][atom] = value;
	else if (!rv_this.enabled && (!strcmp(op, "update") || !strcmp(op, "pulse") ||
				       !strcmp(op, "set")))
		return 0; /* the handlers that would call these are detached */
	else if (!strcmp(op, "update"))
		ltl_atom_update(task, atom, value);
	else if (!strcmp(op, "pulse"))
		ltl_atom_pulse(task, atom, value);
	else if (!strcmp(op, "set"))
		ltl_atom_set(ltl_get_monitor(task), atom, value);
	else
		return -1;
	if (rv_this.enabled)
		kshim_ltl_print(task);
	return 0;
}

/* "tables" mode: what ltl_start() and ltl_possible_next_states() set, for all atoms. */
static int kshim_ltl_tables(void)
{
	for (unsigned long atoms = 0; atoms < 1UL << LTL_NUM_ATOM; atoms++) {
		struct ltl_monitor mon;

		memset(&mon, 0, sizeof(mon));
		mon.atoms[0] = atoms;
		ltl_start(NULL, &mon);
		printf("start %lu %lu\n", atoms, mon.states[0]);
		for (unsigned int state = 0; state < RV_NUM_BA_STATES; state++) {
			DECLARE_BITMAP(next, RV_MAX_BA_STATES);

			memset(next, 0, sizeof(next));
			ltl_possible_next_states(&mon, state, next);
			printf("next %lu %u %lu\n", atoms, state, next[0]);
		}
	}
	return 0;
}
#endif /* KSHIM_LTL */

static void kshim_enable(void)
{
	int ret = rv_this.enable();

	if (ret)
		kshim_log("enable", "failed: %d", ret);
	else
		rv_this.enabled = 1;
}

#ifdef KSHIM_FILE
static void kshim_read_file(void)
{
	struct seq_file s = { .len = 0 };
	char *line, *rest;

	kshim_file_fops->open(NULL, NULL);
	kshim_seq_show(&s, NULL);
	rest = s.buf;
	while ((line = strsep(&rest, "\n")) && (*line || rest))
		printf("%llu read %s\n", kshim_now_ns, line);
}

static void kshim_write_file(char *text)
{
	loff_t pos = 0;
	ssize_t ret = kshim_file_fops->write(NULL, text, strlen(text), &pos);

	printf("%llu write %zd\n", kshim_now_ns, ret < 0 ? ret : 0);
}

static void kshim_hit(struct task_struct *t, loff_t offset)
{
	current = t;
	for (size_t i = 0; i < ARRAY_SIZE(kshim_uprobes); i++) {
		struct uprobe *u = &kshim_uprobes[i];

		if (u->used && u->offset == offset)
			u->uc->handler(u->uc, NULL, NULL);
	}
}
#endif

static int kshim_exec(const char *op, char *line)
{
	unsigned long long v;
	char a[32], b[32], c[32], d[32];
	int cpu;

	if (!strcmp(op, "idle")) {
		return 0;
	} else if (!strcmp(op, "enable")) {
		kshim_enable();
	} else if (!strcmp(op, "disable")) {
		rv_this.disable();
#ifdef KSHIM_MODEL
	} else if (!strcmp(op, "env") && sscanf(line, "%d %llu", &cpu, &v) == 2) {
		kshim_env[cpu] = v;
	} else if (!strcmp(op, "param") && sscanf(line, "%d %llu", &cpu, &v) == 2) {
		kshim_params[cpu] = v;
	} else if (!strcmp(op, "begin") && sscanf(line, "%31s", a) == 1) {
		printf("%llu begin %s %d\n", kshim_now_ns, a, kshim_begin(atoi(a)));
		kshim_print_state(atoi(a));
	} else if (!strcmp(op, "handle") && sscanf(line, "%31s %31s %31s", a, b, c) == 3) {
		kshim_handle(a, atoi(b), atoi(c));
		kshim_print_state(atoi(b));
#if RV_MON_TYPE == RV_MON_PER_TASK
	} else if (!strcmp(op, "reset") && sscanf(line, "%31s", a) == 1) {
		da_reset(kshim_task(a));
		kshim_print_state(atoi(a));
#elif RV_MON_TYPE == RV_MON_PER_OBJ
	} else if (!strcmp(op, "reset") && sscanf(line, "%31s", a) == 1) {
		da_reset(atoi(a), &kshim_objects[atoi(a)]);
		kshim_print_state(atoi(a));
	} else if (!strcmp(op, "destroy") && sscanf(line, "%31s", a) == 1) {
		da_destroy_storage(atoi(a));
		kshim_print_state(atoi(a));
#endif
#endif /* KSHIM_MODEL */
	} else if (!strcmp(op, "switch") && sscanf(line, "%31s %31s %31s %31s", a, b, c, d) == 4) {
		trace_sched_switch(atoi(c), kshim_task(a), kshim_task(b), strtoul(d, NULL, 0));
	} else if (!strcmp(op, "wakeup") && sscanf(line, "%31s", a) == 1) {
		trace_sched_wakeup(kshim_task(a));
	} else if (!strcmp(op, "exit") && sscanf(line, "%31s", a) == 1) {
		trace_sched_process_exit(kshim_task(a), true);
#ifdef KSHIM_START
	} else if (!strcmp(op, "start") && sscanf(line, "%31s %llu", a, &v) == 2) {
		printf("%llu start %s %d\n", kshim_now_ns, a, KSHIM_START(kshim_task(a), v));
	} else if (!strcmp(op, "stop") && sscanf(line, "%31s", a) == 1) {
		printf("%llu stop %s %d\n", kshim_now_ns, a, KSHIM_STOP(kshim_task(a)));
#endif
#ifdef KSHIM_FILE
	} else if (!strcmp(op, "write")) {
		kshim_write_file(line);
	} else if (!strcmp(op, "read")) {
		kshim_read_file();
	} else if (!strcmp(op, "hit") && sscanf(line, "%31s %llu", a, &v) == 2) {
		kshim_hit(kshim_task(a), v);
#endif
#ifdef KSHIM_LTL
	} else if (!kshim_ltl_exec(op, line)) {
#endif
	} else {
		return -1;
	}
	return 0;
}

/* --- a second thread: a handler paused on another CPU ----------------------------------- */

static pthread_mutex_t kshim_other_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t kshim_turn = PTHREAD_COND_INITIALIZER;
static enum { OTHER_NONE, OTHER_RUNNING, OTHER_PAUSED, OTHER_DONE } kshim_other;
static bool kshim_other_go, kshim_pause_next;
static __thread bool kshim_pausable;
static pthread_t kshim_other_thread;
static char kshim_other_op[32], kshim_other_args[8192];
static int kshim_other_cpu, kshim_other_ret;

static void kshim_set_other(int state)
{
	pthread_mutex_lock(&kshim_other_lock);
	kshim_other = state;
	pthread_cond_broadcast(&kshim_turn);
	pthread_mutex_unlock(&kshim_other_lock);
}

static void kshim_wait_other(bool (*ready)(void))
{
	pthread_mutex_lock(&kshim_other_lock);
	while (!ready())
		pthread_cond_wait(&kshim_turn, &kshim_other_lock);
	pthread_mutex_unlock(&kshim_other_lock);
}

static bool kshim_other_stopped(void)
{
	return kshim_other == OTHER_PAUSED || kshim_other == OTHER_DONE;
}

static bool kshim_other_done(void)
{
	return kshim_other == OTHER_DONE;
}

static bool kshim_go(void)
{
	return kshim_other_go;
}

static void kshim_pause_here(void)
{
	if (!kshim_pausable)
		return;
	kshim_pausable = false;
	kshim_set_other(OTHER_PAUSED);
	kshim_wait_other(kshim_go);
}

static void *kshim_other_main(void *unused)
{
	kshim_cpu = kshim_other_cpu;
	kshim_pausable = true;
	kshim_other_ret = kshim_exec(kshim_other_op, kshim_other_args);
	kshim_set_other(OTHER_DONE);
	return NULL;
}

/* The paused handler finishes; the main thread waits for it. */
static void kshim_resume(void)
{
	if (kshim_other == OTHER_NONE)
		return;
	pthread_mutex_lock(&kshim_other_lock);
	kshim_other_go = true;
	pthread_cond_broadcast(&kshim_turn);
	pthread_mutex_unlock(&kshim_other_lock);
	kshim_wait_other(kshim_other_done);
	pthread_join(kshim_other_thread, NULL);
	kshim_other = OTHER_NONE;
	kshim_other_go = false;
}


static int kshim_run_line(char *line)
{
	unsigned long long t;
	char op[32];
	int used = 0, cpu = -1;

	line[strcspn(line, "\n")] = '\0';
	if (sscanf(line, "%llu %n", &t, &used) < 1)
		return -1;
	line += used;
	if (sscanf(line, "@%d %n", &cpu, &used) == 1)
		line += used;
	if (sscanf(line, "%31s %n", op, &used) < 1)
		return -1;
	line += used;
	kshim_grace_period();
	kshim_advance(t);
	if (!strcmp(op, "pause")) {
		kshim_pause_next = true;
		return 0;
	}
	if (!strcmp(op, "resume")) {
		kshim_resume();
		return 0;
	}
	if (kshim_pause_next) {
		if (kshim_other != OTHER_NONE)
			kshim_die("one paused handler at a time");
		kshim_pause_next = false;
		snprintf(kshim_other_op, sizeof(kshim_other_op), "%s", op);
		snprintf(kshim_other_args, sizeof(kshim_other_args), "%s", line);
		kshim_other_cpu = cpu >= 0 ? cpu : 1;
		kshim_other = OTHER_RUNNING;
		pthread_create(&kshim_other_thread, NULL, kshim_other_main, NULL);
		kshim_wait_other(kshim_other_stopped);
		if (kshim_other == OTHER_DONE)
			kshim_resume();
		return kshim_other_ret;
	}
	if (cpu >= 0)
		kshim_cpu = cpu;
	return kshim_exec(op, line);
}

#ifdef KSHIM_PARSE
static int kshim_hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* "parse" mode: each input line is a binding-file line, hex-encoded. */
static int kshim_parse_lines(void)
{
	char hex[8192], line[4096];

	while (fgets(hex, sizeof(hex), stdin)) {
		struct KSHIM_PARSE_LINE b = { 0 };
		size_t n = strcspn(hex, "\n") / 2;
		int ret;

		for (size_t i = 0; i < n; i++)
			line[i] = kshim_hexval(hex[2 * i]) * 16 + kshim_hexval(hex[2 * i + 1]);
		line[n] = '\0';
		ret = KSHIM_PARSE(line, &b);
		if (ret)
			printf("%d\n", ret);
		else if (b.remove)
			printf("0 remove %s %lld\n", b.path, (long long)b.start);
		else
			printf("0 add %s %lld %lld %llu\n", b.path, (long long)b.start,
			       (long long)b.stop, (unsigned long long)KSHIM_PARSE_VALUE(b));
	}
	return 0;
}
#endif

#ifdef KSHIM_KUNIT
/* One case as KUnit runs it: init, the case, exit, then its resources. */
static enum kshim_kunit_status kshim_kunit_case(struct kunit_suite *suite, struct kunit_case *c,
						 struct kunit *test)
{
	test->name = c->name;
	kshim_kunit_current = test;
	if (!setjmp(test->end)) {
		if (suite->init && suite->init(test))
			kshim_kunit_failed(test, __FILE__, __LINE__, "the suite's init to pass");
		else
			c->run_case(test);
	}
	if (!setjmp(test->end)) {
		if (suite->exit)
			suite->exit(test);
		kshim_kunit_release(test);
	}
	kshim_kunit_current = NULL;
	kshim_grace_period();
	return test->status;
}

/* "kunit" mode: every suite, a line per case: ok, not ok, or ok with # SKIP. */
static int kshim_kunit(void)
{
	int failed = 0;

	for (struct kunit_suite **s = kshim_kunit_suites; *s; s++) {
		struct kunit_suite *suite = *s;
		int n = 0;

		if (suite->suite_init && suite->suite_init(suite)) {
			printf("not ok %s (suite_init)\n", suite->name);
			failed = 1;
			continue;
		}
		for (struct kunit_case *c = suite->test_cases; c->run_case; c++) {
			static struct kunit test;

			memset(&test, 0, sizeof(test));
			switch (kshim_kunit_case(suite, c, &test)) {
			case KSHIM_KUNIT_PASS:
				printf("ok %d %s\n", ++n, c->name);
				break;
			case KSHIM_KUNIT_SKIP:
				printf("ok %d %s # SKIP %s\n", ++n, c->name, test.skip_reason);
				break;
			default:
				printf("not ok %d %s\n", ++n, c->name);
				failed = 1;
			}
			fflush(stdout);
		}
		if (suite->suite_exit)
			suite->suite_exit(suite);
	}
	return failed;
}
#endif

int main(int argc, char **argv)
{
	char line[8192];
	int opt;

	while ((opt = getopt(argc, argv, "l:tcu:")) != -1) {
		if (opt == 'u')
			kshim_now_ns = strtoull(optarg, NULL, 0);
		else if (opt == 'l')
			kshim_timer_latency_ns = strtoull(optarg, NULL, 0);
		else if (opt == 't')
			kshim_timers_first = true;
		else if (opt == 'c')
			kshim_wheel_clk_ahead = true;
		else
			return 2;
	}
	kshim_init_tasks();
	kshim_preempt_hook = kshim_pause_here;
	kshim_readers_hook = kshim_resume;
#ifdef KSHIM_PARSE
	if (optind < argc && !strcmp(argv[optind], "parse"))
		return kshim_parse_lines();
#endif
#ifdef KSHIM_LTL
	if (optind < argc && !strcmp(argv[optind], "tables"))
		return kshim_ltl_tables();
#endif
	if (kshim_module_init())
		return 1;
#ifdef KSHIM_KUNIT
	if (optind < argc && !strcmp(argv[optind], "kunit")) {
		/* time passes between the calls of a case, so residency is not all zero */
		kshim_ns_per_read = 1000;
		return kshim_kunit();
	}
#endif
	while (fgets(line, sizeof(line), stdin)) {
		if (kshim_run_line(line)) {
			fprintf(stderr, "bad line: %s\n", line);
			return 2;
		}
		fflush(stdout);
	}
	kshim_resume();
	return 0;
}
