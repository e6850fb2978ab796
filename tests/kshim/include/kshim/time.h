/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: a virtual clock, jiffies, hrtimers and the timer wheel.
 *
 * kshim_now_ns is ktime_get_ns(): nanoseconds since boot, moved forward only
 * by the driver.  Jiffies count ticks of TICK_NSEC from INITIAL_JIFFIES at
 * boot, as a HZ kernel does.  A timer runs its callback when the driver
 * advances past the instant it fires; what decides that instant is the
 * kernel's own arithmetic (6.12 kernel/time/{hrtimer,timer}.c, written here
 * from it): a relative hrtimer saturates like ktime_add_safe(), a wheel timer
 * fires at its bucket's expiry as calc_wheel_index() computes it.
 *
 * Choices the kernel leaves to circumstance are parameters the driver sets:
 * kshim_timer_latency_ns (how long after its expiry a callback runs),
 * kshim_timers_first (whether a callback due at the same nanosecond as an
 * event runs before it) and kshim_wheel_clk_ahead (whether the wheel's clock
 * is already one jiffy ahead, as after the tick's own softirq ran).
 */
#ifndef KSHIM_TIME_H
#define KSHIM_TIME_H

#include "sync.h"

#ifndef HZ
#define HZ 250
#endif
#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_USEC 1000ULL
#define USEC_PER_SEC 1000000UL
#define TICK_NSEC ((NSEC_PER_SEC + HZ / 2) / HZ)
#define INITIAL_JIFFIES ((unsigned long)(unsigned int)(-300 * HZ))
_Static_assert(USEC_PER_SEC % HZ == 0, "kshim supports HZ values that divide 10^6");

static u64 kshim_timer_latency_ns;
static bool kshim_timers_first;
static bool kshim_wheel_clk_ahead;

static u64 kshim_ns_per_read; /* KUnit runs: each read of the clock is this much later */

static inline u64 ktime_get_ns(void)
{
	kshim_now_ns += kshim_ns_per_read;
	return kshim_now_ns;
}

static inline u64 get_jiffies_64(void)
{
	return INITIAL_JIFFIES + kshim_now_ns / TICK_NSEC;
}

#define jiffies ((unsigned long)get_jiffies_64())
#define time_after64(a, b) ((s64)((b) - (a)) < 0)
#define time_before64(a, b) time_after64(b, a)
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)

/* The instant jiffies becomes @j. */
static inline u64 kshim_jiffy_start_ns(u64 j)
{
	return (j - INITIAL_JIFFIES) * TICK_NSEC;
}

/* kernel/time/time.c: the product is an unsigned int, so it wraps */
static inline unsigned int jiffies_to_usecs(const unsigned long j)
{
	return (USEC_PER_SEC / HZ) * j;
}

static inline u64 jiffies_to_nsecs(const unsigned long j)
{
	return (u64)jiffies_to_usecs(j) * NSEC_PER_USEC;
}

static inline unsigned long nsecs_to_jiffies(u64 n)
{
	return n / (NSEC_PER_SEC / HZ);
}

/* --- the timers both kinds share: when the callback runs ------------------------- */

struct kshim_alarm {
	struct kshim_alarm *next; /* every timer ever set up, for the driver */
	bool armed;
	bool running;
	u64 fire_ns;
	u64 seq; /* arming order breaks ties */
	void (*expire)(struct kshim_alarm *alarm);
};

static struct kshim_alarm *kshim_alarms;
static u64 kshim_alarm_seq;

static inline void kshim_track(struct kshim_alarm *alarm, void (*expire)(struct kshim_alarm *))
{
	for (struct kshim_alarm *a = kshim_alarms; a; a = a->next) {
		if (a == alarm) {
			if (a->armed)
				kshim_log("WARNING", "a timer set up again while armed");
			a->expire = expire;
			return;
		}
	}
	alarm->armed = false;
	alarm->running = false;
	alarm->expire = expire;
	alarm->next = kshim_alarms;
	kshim_alarms = alarm;
}

static void kshim_forget_timers(void *start, size_t size)
{
	struct kshim_alarm **link = &kshim_alarms;

	while (*link) {
		struct kshim_alarm *a = *link;

		if ((char *)a >= (char *)start && (char *)a < (char *)start + size) {
			if (a->armed || a->running)
				kshim_die("memory freed with an armed timer in it");
			*link = a->next;
		} else {
			link = &a->next;
		}
	}
}

static inline void kshim_arm(struct kshim_alarm *alarm, u64 at_ns)
{
	alarm->armed = true;
	alarm->fire_ns = at_ns + kshim_timer_latency_ns;
	alarm->seq = ++kshim_alarm_seq;
}

/* The next callback due by @t: strictly before it, or at it when timers go first. */
static inline struct kshim_alarm *kshim_next_due(u64 t)
{
	struct kshim_alarm *due = NULL;

	for (struct kshim_alarm *a = kshim_alarms; a; a = a->next) {
		if (!a->armed || a->fire_ns > t || (a->fire_ns == t && !kshim_timers_first))
			continue;
		if (!due || a->fire_ns < due->fire_ns ||
		    (a->fire_ns == due->fire_ns && a->seq < due->seq))
			due = a;
	}
	return due;
}

/* Run every callback due by @t, in time order, then set the clock to @t. */
static inline void kshim_advance(u64 t)
{
	struct kshim_alarm *due;

	while ((due = kshim_next_due(t))) {
		due->armed = false;
		if (due->fire_ns > kshim_now_ns)
			kshim_now_ns = due->fire_ns;
		due->running = true;
		due->expire(due);
		due->running = false;
	}
	if (t > kshim_now_ns)
		kshim_now_ns = t;
}

/* <linux/delay.h>: a busy wait is time passing, with the timers due in it run */
static inline void ndelay(unsigned long ns)
{
	kshim_advance(kshim_now_ns + ns);
}

#define udelay(us) ndelay((us) * NSEC_PER_USEC)
#define mdelay(ms) ndelay((ms) * NSEC_PER_USEC * 1000)

/* --- hrtimers ------------------------------------------------------------------------- */

typedef s64 ktime_t;
#define KTIME_MAX S64_MAX
#define KTIME_SEC_MAX (KTIME_MAX / (s64)NSEC_PER_SEC)
#define CLOCK_MONOTONIC 1

enum hrtimer_restart { HRTIMER_NORESTART, HRTIMER_RESTART };
enum hrtimer_mode {
	HRTIMER_MODE_ABS = 0x00,
	HRTIMER_MODE_REL = 0x01,
	HRTIMER_MODE_PINNED = 0x02,
	HRTIMER_MODE_SOFT = 0x04,
	HRTIMER_MODE_HARD = 0x08,
	HRTIMER_MODE_REL_HARD = HRTIMER_MODE_REL | HRTIMER_MODE_HARD,
	HRTIMER_MODE_REL_PINNED_HARD = HRTIMER_MODE_REL | HRTIMER_MODE_PINNED | HRTIMER_MODE_HARD,
};

struct hrtimer {
	struct kshim_alarm alarm;
	enum hrtimer_restart (*function)(struct hrtimer *timer);
	ktime_t expires;
};

static inline ktime_t ns_to_ktime(u64 ns)
{
	return (ktime_t)ns;
}

/* kernel/time/hrtimer.c: an overflowing or negative sum becomes KTIME_SEC_MAX s */
static inline ktime_t ktime_add_safe(const ktime_t lhs, const ktime_t rhs)
{
	ktime_t res = (ktime_t)((u64)lhs + (u64)rhs);

	if (res < 0 || res < lhs || res < rhs)
		res = KTIME_SEC_MAX * (s64)NSEC_PER_SEC;
	return res;
}

static inline void kshim_hrtimer_expire(struct kshim_alarm *alarm)
{
	struct hrtimer *timer = container_of(alarm, struct hrtimer, alarm);

	if (timer->function(timer) == HRTIMER_RESTART)
		kshim_arm(alarm, timer->expires);
}

static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 int clock_id, enum hrtimer_mode mode)
{
	timer->function = function;
	kshim_track(&timer->alarm, kshim_hrtimer_expire);
}

static inline void hrtimer_start(struct hrtimer *timer, ktime_t tim, const enum hrtimer_mode mode)
{
	if (mode & HRTIMER_MODE_REL)
		tim = ktime_add_safe(tim, (ktime_t)kshim_now_ns);
	timer->expires = tim;
	/* an expiry already past fires at once */
	kshim_arm(&timer->alarm, (u64)tim < kshim_now_ns ? kshim_now_ns : (u64)tim);
}

static inline int hrtimer_try_to_cancel(struct hrtimer *timer)
{
	if (timer->alarm.running)
		return -1;
	if (!timer->alarm.armed)
		return 0;
	timer->alarm.armed = false;
	return 1;
}

static inline int hrtimer_cancel(struct hrtimer *timer)
{
	if (timer->alarm.running)
		kshim_die("hrtimer_cancel() waits for its own running callback");
	return hrtimer_try_to_cancel(timer);
}

static inline bool hrtimer_active(const struct hrtimer *timer)
{
	return timer->alarm.armed || timer->alarm.running;
}

/* --- the timer wheel ------------------------------------------------------------------- */

#define TIMER_PINNED 0x00200000
#define LVL_CLK_SHIFT 3
#define LVL_SHIFT(n) ((n) * LVL_CLK_SHIFT)
#define LVL_GRAN(n) (1UL << LVL_SHIFT(n))
#define LVL_BITS 6
#define LVL_SIZE (1UL << LVL_BITS)
#define LVL_START(n) ((LVL_SIZE - 1) << (((n) - 1) * LVL_CLK_SHIFT))
#define LVL_DEPTH (HZ > 100 ? 9 : 8)
#define WHEEL_TIMEOUT_CUTOFF (LVL_START(LVL_DEPTH))
#define WHEEL_TIMEOUT_MAX (WHEEL_TIMEOUT_CUTOFF - LVL_GRAN(LVL_DEPTH - 1))

/* POSIX <time.h> (which pthread.h brings) has its own timer_delete() */
#define timer_delete kshim_timer_delete
#define timer_delete_sync kshim_timer_delete_sync

struct timer_list {
	struct kshim_alarm alarm;
	void (*function)(struct timer_list *timer);
	unsigned long expires;
	u32 flags;
};

/*
 * The jiffy a timer for @expires fires at, from calc_wheel_index(): the
 * level is chosen by the distance from the wheel's clock, and the expiry is
 * rounded up to the level's granularity, one jiffy later even at level 0.
 */
static inline unsigned long kshim_wheel_bucket_expiry(unsigned long expires, unsigned long clk)
{
	unsigned long delta = expires - clk;
	unsigned int lvl;

	if ((long)delta < 0)
		return clk;
	if (delta >= WHEEL_TIMEOUT_CUTOFF) {
		expires = clk + WHEEL_TIMEOUT_MAX;
		lvl = LVL_DEPTH - 1;
	} else {
		for (lvl = 0; lvl < LVL_DEPTH - 1 && delta >= LVL_START(lvl + 1); lvl++)
			;
	}
	return ((expires >> LVL_SHIFT(lvl)) + 1) << LVL_SHIFT(lvl);
}

static inline void kshim_wheel_expire(struct kshim_alarm *alarm)
{
	struct timer_list *timer = container_of(alarm, struct timer_list, alarm);

	timer->function(timer);
}

static inline void timer_setup(struct timer_list *timer, void (*function)(struct timer_list *),
			       unsigned int flags)
{
	timer->function = function;
	timer->flags = flags;
	kshim_track(&timer->alarm, kshim_wheel_expire);
}

static inline int mod_timer(struct timer_list *timer, unsigned long expires)
{
	unsigned long now = jiffies;
	unsigned long clk = now + kshim_wheel_clk_ahead;
	unsigned long bucket = kshim_wheel_bucket_expiry(expires, clk);
	int was_pending = timer->alarm.armed;

	/* the softirq of a jiffy runs once jiffies has reached it, at the earliest the next */
	if (time_before(bucket, now + 1))
		bucket = now + 1;
	timer->expires = expires;
	kshim_arm(&timer->alarm, kshim_jiffy_start_ns(bucket));
	return was_pending;
}

static inline int timer_delete(struct timer_list *timer)
{
	int was_pending = timer->alarm.armed;

	timer->alarm.armed = false;
	return was_pending;
}

static inline int timer_delete_sync(struct timer_list *timer)
{
	if (timer->alarm.running)
		kshim_die("timer_delete_sync() waits for its own running callback");
	return timer_delete(timer);
}

#define del_timer timer_delete
#define del_timer_sync timer_delete_sync

#endif /* KSHIM_TIME_H */
