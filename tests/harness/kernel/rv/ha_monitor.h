/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness stand-in for include/rv/ha_monitor.h as a whole monitor source sees
 * it: the helpers of ../rv_stub.h plus declarations of the DA entry points the
 * handlers call, with the argument list of RV_MON_TYPE.
 */
#ifndef HARNESS_RV_HA_MONITOR_H
#define HARNESS_RV_HA_MONITOR_H
#include "../../rv_stub.h"

#define RV_MON_GLOBAL 0
#define RV_MON_PER_CPU 1
#define RV_MON_PER_TASK 2
#define RV_MON_PER_OBJ 3

static struct rv_monitor rv_this;

/* Supplied by the monitor; ha_monitor_handle_constraint() is its caller. */
static bool ha_verify_constraint(struct ha_monitor *ha_mon, enum states curr_state,
				 enum events event, enum states next_state, u64 time_ns);

static inline bool ha_monitor_handle_constraint(struct ha_monitor *ha_mon, enum states curr_state,
						enum events event, enum states next_state)
{
	return ha_verify_constraint(ha_mon, curr_state, event, next_state, ha_get_ns());
}

int ha_monitor_init(void);
void ha_monitor_destroy(void);
void da_monitor_reset_all(void);

#if RV_MON_TYPE == RV_MON_PER_OBJ
void da_handle_event(int id, monitor_target target, enum events event);
bool da_handle_start_event(int id, monitor_target target, enum events event);
bool da_handle_start_run_event(int id, monitor_target target, enum events event);
void da_destroy_storage(int id);
#elif RV_MON_TYPE == RV_MON_PER_TASK
void da_handle_event(struct task_struct *p, enum events event);
bool da_handle_start_event(struct task_struct *p, enum events event);
bool da_handle_start_run_event(struct task_struct *p, enum events event);
#else
void da_handle_event(enum events event);
bool da_handle_start_event(enum events event);
bool da_handle_start_run_event(enum events event);
#endif
#endif
