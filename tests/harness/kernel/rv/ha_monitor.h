/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness stand-in for include/rv/da_monitor.h and include/rv/ha_monitor.h as
 * a whole RV_MON_PER_OBJ monitor source sees them: the clock and timer helpers
 * of ../../rv_stub.h, a table of per-object storage searched by id (the
 * kernel's hash table), the DA core (da_handle_event() and its checks) and the
 * timer callback, which tests/harness/obj_driver.c runs at each deadline.
 */
#ifndef HARNESS_RV_HA_MONITOR_H
#define HARNESS_RV_HA_MONITOR_H
#include "../harness_kernel.h"
#include "../../rv_stub.h"

#define RV_MON_GLOBAL 0
#define RV_MON_PER_CPU 1
#define RV_MON_PER_TASK 2
#define RV_MON_PER_OBJ 3

#if RV_MON_TYPE != RV_MON_PER_OBJ
#error "the runnable harness stands in for per_obj monitors only"
#endif

#define EVENT_NONE_LBL "none"
#define AUTOMATON CONCATENATE(automaton_, MONITOR_NAME)
#define HARNESS_TRACE(what) CONCATENATE(what, MONITOR_NAME)

static struct rv_monitor rv_this;

#define to_ha_monitor(da) ((struct ha_monitor *)(da))
#define hrtimer_cancel(t) ha_cancel_timer(container_of(t, struct ha_monitor, hrtimer))

struct da_monitor_storage {
	bool used;
	int id;
	monitor_target target;
	struct ha_monitor ha_mon;
};

#define HARNESS_STORAGE 256
static struct da_monitor_storage harness_storage[HARNESS_STORAGE];

static bool ha_verify_constraint(struct ha_monitor *ha_mon, enum states curr_state,
				 enum events event, enum states next_state, u64 time_ns);

static inline void harness_assert_rcu(void)
{
	if (!harness_rcu_depth) {
		fprintf(stderr, "harness: monitor storage read outside an RCU read section\n");
		abort();
	}
}

static inline struct da_monitor *da_get_monitor(int id, monitor_target target)
{
	harness_assert_rcu();
	for (int i = 0; i < HARNESS_STORAGE; i++) {
		if (harness_storage[i].used && harness_storage[i].id == id)
			return &harness_storage[i].ha_mon.da_mon;
	}
	return NULL;
}

static inline monitor_target da_get_target(struct da_monitor *da_mon)
{
	return container_of(to_ha_monitor(da_mon), struct da_monitor_storage, ha_mon)->target;
}

#define ha_get_target(ha_mon) da_get_target(&(ha_mon)->da_mon)

/* Storage is a table here: "allocation" fails only when it is full. */
static inline struct da_monitor *da_create_storage(int id, monitor_target target,
						   struct da_monitor *da_mon)
{
	if (da_mon)
		return da_mon;
	for (int i = 0; i < HARNESS_STORAGE; i++) {
		struct da_monitor_storage *s = &harness_storage[i];

		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->id = id;
		s->target = target;
		return &s->ha_mon.da_mon;
	}
	return NULL;
}

static inline bool da_monitoring(struct da_monitor *da_mon)
{
	return da_mon->monitoring;
}

static inline bool da_monitor_enabled(void)
{
	return rv_monitoring_on() && rv_this.enabled;
}

/* da_monitor_reset(), with ha_monitor_reset_env() as its hook. */
static inline void da_monitor_reset(struct da_monitor *da_mon)
{
	if (da_mon->monitoring)
		ha_cancel_timer(to_ha_monitor(da_mon));
	da_mon->monitoring = false;
	da_mon->curr_state = AUTOMATON.initial_state;
}

/* da_monitor_start(), with ha_monitor_init_env() as its hook. */
static inline void da_monitor_start(struct da_monitor *da_mon)
{
	struct ha_monitor *ha_mon = to_ha_monitor(da_mon);

	for (int i = 0; i < (int)ENV_MAX_STORED; i++)
		ha_mon->env_store[i] = ENV_INVALID_VALUE;
	ha_mon->timer_armed = false;
	da_mon->curr_state = AUTOMATON.initial_state;
	da_mon->monitoring = true;
}

static inline void da_destroy_storage(int id)
{
	struct da_monitor *da_mon;

	guard(rcu)();
	da_mon = da_get_monitor(id, NULL);
	if (!da_mon)
		return;
	da_monitor_reset(da_mon);
	if (to_ha_monitor(da_mon)->timer_armed) {
		/* the kernel frees it one grace period later: the timer fires on freed memory */
		fprintf(stderr, "harness: storage of %d destroyed with its timer armed\n", id);
		abort();
	}
	container_of(to_ha_monitor(da_mon), struct da_monitor_storage, ha_mon)->used = false;
}

/* da_event() and ha_monitor_handle_constraint(): a violation resets the monitor. */
static inline void harness_da_event(struct da_monitor *da_mon, int id, enum events event)
{
	unsigned int curr = da_mon->curr_state;
	unsigned int next = AUTOMATON.function[curr][event];

	if (next == INVALID_STATE) {
		HARNESS_TRACE(trace_error_)(id, AUTOMATON.state_names[curr],
					    AUTOMATON.event_names[event]);
		da_monitor_reset(da_mon);
		return;
	}
	if (!ha_verify_constraint(to_ha_monitor(da_mon), curr, event, next, ha_get_ns())) {
		HARNESS_TRACE(trace_error_env_)(id, AUTOMATON.state_names[curr],
						AUTOMATON.event_names[event], "");
		da_monitor_reset(da_mon);
		return;
	}
	da_mon->curr_state = next;
	HARNESS_TRACE(trace_event_)(id, AUTOMATON.state_names[curr], AUTOMATON.event_names[event],
				    AUTOMATON.state_names[next], AUTOMATON.final_states[next]);
}

/*
 * A handler another CPU runs concurrently: with harness_pause set, the next
 * event of that id stops right after its da_monitoring() check, inside its RCU
 * read section, until harness_resume() finishes it (the driver's pause and
 * resume lines); whatever runs in between races with it.
 */
static bool harness_pause;
static int harness_pause_id;
static struct {
	struct da_monitor *da_mon;
	int id;
	enum events event;
	int *rcu;
} harness_paused;

static inline void da_handle_event(int id, monitor_target target, enum events event)
{
	struct da_monitor *da_mon;

	if (harness_pause && id == harness_pause_id) {
		harness_pause = false;
		harness_paused.rcu = harness_rcu_lock();
		da_mon = da_get_monitor(id, target);
		if (da_mon && da_monitor_enabled() && da_monitoring(da_mon)) {
			harness_paused.da_mon = da_mon;
			harness_paused.id = id;
			harness_paused.event = event;
			return;
		}
		harness_rcu_unlock(&harness_paused.rcu);
		harness_paused.rcu = NULL;
		return;
	}
	guard(rcu)();
	da_mon = da_get_monitor(id, target);
	if (da_mon && da_monitor_enabled() && da_monitoring(da_mon))
		harness_da_event(da_mon, id, event);
}

/* The paused handler goes on: its storage must still be the one it looked up. */
static inline void harness_resume(void)
{
	struct da_monitor_storage *s;

	if (!harness_paused.da_mon)
		return;
	s = container_of(to_ha_monitor(harness_paused.da_mon), struct da_monitor_storage, ha_mon);
	if (!s->used || s->id != harness_paused.id) {
		fprintf(stderr, "harness: a handler of %d wrote into freed or reused storage\n",
			harness_paused.id);
		abort();
	}
	harness_da_event(harness_paused.da_mon, harness_paused.id, harness_paused.event);
	harness_paused.da_mon = NULL;
	harness_rcu_unlock(&harness_paused.rcu);
	harness_paused.rcu = NULL;
}

/* __ha_monitor_timer_callback(): report, then reset. */
static inline void harness_timer_callback(struct da_monitor_storage *s)
{
	struct da_monitor *da_mon = &s->ha_mon.da_mon;

	HARNESS_TRACE(trace_error_env_)(s->id, AUTOMATON.state_names[da_mon->curr_state],
					EVENT_NONE_LBL, "");
	da_monitor_reset(da_mon);
}

static inline int ha_monitor_init(void)
{
	memset(harness_storage, 0, sizeof(harness_storage));
	return 0;
}

static inline void ha_monitor_destroy(void)
{
	memset(harness_storage, 0, sizeof(harness_storage));
}

static inline void da_monitor_reset_all(void)
{
	for (int i = 0; i < HARNESS_STORAGE; i++) {
		if (harness_storage[i].used)
			da_monitor_reset(&harness_storage[i].ha_mon.da_mon);
	}
}
#endif
