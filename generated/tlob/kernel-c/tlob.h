/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The tlob automaton as include/rv/automata.h reads it, written by hamodel
 * from its DOT model: states, events, envs and the transition table.
 * The format is Documentation/trace/rv/deterministic_automata.rst.
 */

#define MONITOR_NAME tlob

enum states_tlob {
	running_tlob,
	sleeping_tlob,
	waiting_tlob,
	state_max_tlob,
};

#define INVALID_STATE state_max_tlob

enum events_tlob {
	preempt_tlob,
	sleep_tlob,
	switch_in_tlob,
	wakeup_tlob,
	event_max_tlob,
};

enum envs_tlob {
	clk_elapsed_tlob,
	env_max_tlob,
	env_max_stored_tlob = env_max_tlob,
};

_Static_assert(env_max_stored_tlob <= MAX_HA_ENV_LEN, "Not enough slots");
#define HA_CLK_NS

struct automaton_tlob {
	char *state_names[state_max_tlob];
	char *event_names[event_max_tlob];
	char *env_names[env_max_tlob];
	unsigned char function[state_max_tlob][event_max_tlob];
	unsigned char initial_state;
	bool final_states[state_max_tlob];
};

static const struct automaton_tlob automaton_tlob = {
	.state_names = {
		"running",
		"sleeping",
		"waiting",
	},
	.event_names = {
		"preempt",
		"sleep",
		"switch_in",
		"wakeup",
	},
	.env_names = {
		"clk_elapsed",
	},
	.function = {
		{       waiting_tlob,      sleeping_tlob,      INVALID_STATE,       running_tlob },
		{      INVALID_STATE,      INVALID_STATE,      INVALID_STATE,       waiting_tlob },
		{      INVALID_STATE,      INVALID_STATE,       running_tlob,       waiting_tlob },
	},
	.initial_state = running_tlob,
	.final_states = { 1, 0, 0 },
};

/* Monitoring of a task starts and stops at markers in the program it runs. */
int tlob_start_task(struct task_struct *task, u64 threshold_ns);
int tlob_stop_task(struct task_struct *task);
