/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-ins for the parts of include/rv/da_monitor.h and
 * include/rv/ha_monitor.h that a generated monitor's model (<m>.h) and
 * constraint functions call.  Written from the documented behaviour of those
 * headers, not copied from them; docs/kernel-c.md lists what each one stands
 * in for and where it differs.
 *
 * Time is one global: harness_now (ns).  Jiffies are harness_now / TICK_NSEC,
 * as a HZ kernel counts them.  The one timer per monitor is a deadline that
 * driver.c fires before processing anything at or after it.
 */
#ifndef HARNESS_RV_STUB_H
#define HARNESS_RV_STUB_H

#include <stdbool.h>
#include <stdint.h>

typedef unsigned long long u64; /* as the kernel defines it */
typedef long long s64;

#define U64_MAX UINT64_MAX
#ifndef MAX_HA_ENV_LEN
#define MAX_HA_ENV_LEN 1 /* include/linux/rv.h */
#endif
#define ENV_INVALID_VALUE U64_MAX

#define __CONCAT_STUB(a, b) a##b
#define CONCATENATE(a, b) __CONCAT_STUB(a, b)

struct da_monitor {
	bool monitoring;
	unsigned int curr_state;
};

struct ha_monitor {
	struct da_monitor da_mon;
	u64 env_store[MAX_HA_ENV_LEN];
	bool timer_armed;
	u64 timer_expires_ns;
	char hrtimer; /* stands in for struct hrtimer: only its address is used */
};

static u64 harness_now;
static u64 harness_tick_ns;

static inline u64 get_jiffies_64(void)
{
	return harness_now / harness_tick_ns;
}

/* ha_monitor.h derives these names from MONITOR_NAME. */
#define states CONCATENATE(states_, MONITOR_NAME)
#define events CONCATENATE(events_, MONITOR_NAME)
#define envs CONCATENATE(envs_, MONITOR_NAME)
#define ENV_MAX_STORED CONCATENATE(env_max_stored_, MONITOR_NAME)

/* Supplied by the monitor (the generated constraint section). */
static u64 ha_get_env(struct ha_monitor *ha_mon, enum envs env, u64 time_ns);

/* ha_get_ns(): the event's time, or 0 in monitors without an ns clock. */
#ifdef HA_CLK_NS
#define ha_get_ns() harness_now
#else
#define ha_get_ns() 0
#endif

static inline bool ha_monitor_env_invalid(struct ha_monitor *ha_mon, enum envs env)
{
	return ha_mon->env_store[env] == ENV_INVALID_VALUE;
}

/* Clocks store the instant of their last reset (the guard representation). */
static inline u64 ha_get_clk_ns(struct ha_monitor *ha_mon, enum envs env, u64 time_ns)
{
	return time_ns - ha_mon->env_store[env];
}

static inline void ha_reset_clk_ns(struct ha_monitor *ha_mon, enum envs env, u64 time_ns)
{
	ha_mon->env_store[env] = time_ns;
}

static inline u64 ha_get_clk_jiffy(struct ha_monitor *ha_mon, enum envs env)
{
	return get_jiffies_64() - ha_mon->env_store[env];
}

static inline void ha_reset_clk_jiffy(struct ha_monitor *ha_mon, enum envs env)
{
	ha_mon->env_store[env] = get_jiffies_64();
}

/* True while the clock has not passed `expire` (an unset clock never has). */
static inline bool ha_check_invariant_ns(struct ha_monitor *ha_mon, enum envs env,
					 u64 time_ns, u64 expire)
{
	return ha_mon->env_store[env] >= time_ns - expire;
}

static inline bool ha_check_invariant_jiffy(struct ha_monitor *ha_mon, enum envs env,
					    u64 time_ns, u64 expire)
{
	return (s64)(get_jiffies_64() - expire - ha_mon->env_store[env]) < 0;
}

/* Time since the clock's reset, 0 when it is unset or not a stored env. */
static inline u64 harness_passed(struct ha_monitor *ha_mon, enum envs env, u64 time_ns)
{
	if ((int)env >= (int)ENV_MAX_STORED || ha_monitor_env_invalid(ha_mon, env))
		return 0;
	return ha_get_env(ha_mon, env, time_ns);
}

/* HA_TIMER_HRTIMER: relative expiry, a past one fires at once. */
static inline void ha_start_timer_ns(struct ha_monitor *ha_mon, enum envs env,
				     u64 expire, u64 time_ns)
{
	s64 left = (s64)(expire - harness_passed(ha_mon, env, time_ns));

	ha_mon->timer_armed = true;
	ha_mon->timer_expires_ns = harness_now + (left > 0 ? (u64)left : 0);
}

/* HA_TIMER_WHEEL: expires when jiffies reaches the target, a past one at once. */
static inline void ha_start_timer_jiffy(struct ha_monitor *ha_mon, enum envs env,
					u64 expire, u64 time_ns)
{
	u64 now = get_jiffies_64();
	u64 target = now + expire - harness_passed(ha_mon, env, time_ns);

	ha_mon->timer_armed = true;
	ha_mon->timer_expires_ns = (s64)(target - now) > 0 ? target * harness_tick_ns : harness_now;
}

static inline bool ha_cancel_timer(struct ha_monitor *ha_mon)
{
	bool was = ha_mon->timer_armed;

	ha_mon->timer_armed = false;
	return was;
}

#endif /* HARNESS_RV_STUB_H */
