// SPDX-License-Identifier: GPL-2.0
/*
 * Replays timed calls through one generated monitor and prints what happens,
 * one line per outcome, in the format tests/harness/__init__.py compares with
 * hamodel.semantics.  It stands in for the DA core (da_handle_event and the
 * start variants, da_monitor_reset) and the HA timer callback.
 *
 * Input lines: "T start", "T stop", "T <kind> E V..." where kind is event,
 * start_event or start_run_event, E the event index and V the values of the
 * read-only envs in enum order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* <m>.h needs only these; da_monitor.h's includes provide them in the kernel. */
#include <stdbool.h>
#define MAX_HA_ENV_LEN 1 /* include/linux/rv.h */
#include "model.h"
#include "params.h"
#include "rv_stub.h"
#ifdef HARNESS_HYBRID
#include "constraints.c"
#else
/* A deterministic automaton has no constraints: da_monitor.h's default hook. */
static bool ha_verify_constraint(struct ha_monitor *ha_mon, unsigned int curr, unsigned int event,
				 unsigned int next, u64 time_ns)
{
	return true;
}

static u64 ha_get_env(struct ha_monitor *ha_mon, enum envs env, u64 time_ns)
{
	return ENV_INVALID_VALUE;
}
#endif

#define AUT CONCATENATE(automaton_, MONITOR_NAME)
#define STATE_MAX CONCATENATE(state_max_, MONITOR_NAME)
#define ENV_MAX CONCATENATE(env_max_, MONITOR_NAME)

static struct ha_monitor mon;

/*
 * The kernel's clocks read ktime since boot, never near zero; starting there
 * keeps ha_check_invariant_*'s `now - expire` from wrapping.  Printed times
 * are relative to it, as the oracle counts them.
 */
static u64 epoch;

static void print_clocks(void)
{
	for (int i = 0; i < (int)ENV_MAX_STORED; i++) {
		if (ha_monitor_env_invalid(&mon, i))
			printf(" -");
		else
			printf(" %llu", (unsigned long long)ha_get_env(&mon, i, ha_get_ns()));
	}
	printf("\n");
}

static void reset_monitor(void)
{
	ha_cancel_timer(&mon);
	mon.da_mon.monitoring = false;
	mon.da_mon.curr_state = AUT.initial_state;
}

static void violation(const char *event, const char *kind)
{
	printf("violation %llu %s %s %s", (unsigned long long)(harness_now - epoch),
	       AUT.state_names[mon.da_mon.curr_state], event, kind);
	print_clocks();
	reset_monitor();
}

/* The timer callback, for a deadline at or before `t`. */
static void advance(u64 t)
{
	t += epoch;
	if (mon.da_mon.monitoring && mon.timer_armed && mon.timer_expires_ns <= t) {
		harness_now = mon.timer_expires_ns;
		violation("none", "invariant");
	}
	harness_now = t;
}

/* da_monitor_start(); `setup`: the monitor then calls ha_setup_initial_state(). */
static void start(bool setup)
{
	mon.da_mon.monitoring = true;
	mon.da_mon.curr_state = AUT.initial_state;
	for (int i = 0; i < (int)ENV_MAX_STORED; i++)
		mon.env_store[i] = ENV_INVALID_VALUE;
	mon.timer_armed = false;
#ifdef HARNESS_INITIAL_SETUP
	if (setup)
		ha_setup_initial_state(&mon, ha_get_ns());
#endif
}

static void process(unsigned int event)
{
	unsigned int curr = mon.da_mon.curr_state;
	unsigned int next = AUT.function[curr][event];

	if (next == INVALID_STATE) {
		violation(AUT.event_names[event], "invalid_event");
		return;
	}
	if (!ha_verify_constraint(&mon, curr, event, next, ha_get_ns())) {
		violation(AUT.event_names[event], "guard");
		return;
	}
	mon.da_mon.curr_state = next;
	printf("moved %llu %s %s %s\n", (unsigned long long)(harness_now - epoch),
	       AUT.state_names[curr], AUT.event_names[event], AUT.state_names[next]);
}

int main(int argc, char **argv)
{
	char line[512];

	harness_tick_ns = strtoull(argv[1], NULL, 10);
	epoch = 1000000 * harness_tick_ns;
	for (int i = 2; i < argc && i - 2 < (int)(sizeof(harness_params) / sizeof(harness_params[0])); i++)
		harness_params[i - 2] = strtoull(argv[i], NULL, 10);
	reset_monitor();
	while (fgets(line, sizeof(line), stdin)) {
		char kind[32];
		unsigned long long t;
		unsigned int event = 0;
		int used = 0;
		char *rest;

		if (sscanf(line, "%llu %31s %n", &t, kind, &used) < 2)
			return 2;
		rest = line + used;
		if (sscanf(rest, "%u %n", &event, &used) == 1)
			rest += used;
		for (size_t i = 0; i < sizeof(harness_env) / sizeof(harness_env[0]); i++)
			harness_env[i] = strtoull(rest, &rest, 10);
		advance(t);
		if (!strcmp(kind, "start")) {
			if (mon.da_mon.monitoring) {
				printf("already %llu\n", t);
				continue;
			}
			start(true);
		} else if (!strcmp(kind, "stop")) {
			printf("stop %llu %d\n", t, mon.da_mon.monitoring);
			reset_monitor();
			continue;
		} else if (!mon.da_mon.monitoring && !strcmp(kind, "start_event")) {
			start(true);
		} else if (!mon.da_mon.monitoring && !strcmp(kind, "event")) {
			printf("ignored %llu\n", t);
			continue;
		} else {
			/*
			 * da_handle_start_run_event: starts and processes at once, so the
			 * monitor's own code cannot run in between; the generated
			 * constraint check applies the initial arrow itself.
			 */
			if (!mon.da_mon.monitoring)
				start(false);
			process(event);
		}
		advance(t);
	}
	return 0;
}
