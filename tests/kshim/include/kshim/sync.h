/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: memory ordering, locks, RCU and per-CPU data on one thread.
 *
 * There is no concurrency, so barriers are plain accesses; what can still go
 * wrong is checked: taking a held lock (a deadlock in the kernel), sleeping
 * or waiting for a grace period inside an RCU read section, and
 * lockdep_assert_in_rcu_read_lock() outside one all stop the run.  A grace
 * period runs the deferred RCU work (kfree_rcu, queue_rcu_work) only when no
 * reader is inside; the driver ends one before each input line.
 */
#ifndef KSHIM_SYNC_H
#define KSHIM_SYNC_H

#include "base.h"

#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define smp_load_acquire(p) READ_ONCE(*(p))
#define smp_store_release(p, v) WRITE_ONCE(*(p), (v))
#define smp_mb() __sync_synchronize()

/*
 * A handler "on another CPU" that the driver pauses stops here, at its first
 * compare-and-exchange: inside its RCU read section, after its
 * da_monitoring() check.  The driver installs the hook.
 */
static void (*kshim_preempt_hook)(void);

static inline void kshim_preempt_point(void)
{
	if (kshim_preempt_hook)
		kshim_preempt_hook();
}

#define try_cmpxchg(ptr, oldp, new) ({					\
	__typeof__(ptr) __p = (ptr);					\
	kshim_preempt_point();						\
	__typeof__(*(ptr)) __old = *(oldp);				\
	bool __ok = *__p == __old;					\
	if (__ok)							\
		*__p = (new);						\
	else								\
		*(oldp) = *__p;						\
	__ok;								\
})

static inline __attribute__((noreturn)) void kshim_die(const char *what)
{
	kshim_log("BUG", "%s", what);
	exit(3);
}

/* --- locks ------------------------------------------------------------------ */

typedef struct {
	int held;
} spinlock_t;
typedef spinlock_t raw_spinlock_t;
typedef spinlock_t rwlock_t;
struct mutex {
	int held;
};

#define DEFINE_SPINLOCK(x) spinlock_t x = { 0 }
#define DEFINE_RAW_SPINLOCK(x) raw_spinlock_t x = { 0 }
#define DEFINE_MUTEX(x) struct mutex x = { 0 }

static inline int *kshim_lock(int *held)
{
	if (*held)
		kshim_die("lock taken twice (a deadlock in the kernel)");
	*held = 1;
	return held;
}

static inline void kshim_unlock(int **held)
{
	**held = 0;
}

static inline void spin_lock(spinlock_t *l) { kshim_lock(&l->held); }
static inline void spin_unlock(spinlock_t *l) { l->held = 0; }
static inline void mutex_lock(struct mutex *m) { kshim_lock(&m->held); }
static inline void mutex_unlock(struct mutex *m) { m->held = 0; }
/* one reader at a time is all one thread needs */
#define read_lock(l) kshim_lock(&(l)->held)
#define read_unlock(l) ((l)->held = 0)

/* --- RCU -------------------------------------------------------------------- */

/*
 * Readers inside a read section, on every thread, and on this one: a grace
 * period waits for all of them, and waiting inside one's own is a deadlock.
 * The driver may run one paused handler on a second thread (its other "CPU").
 */
static int kshim_rcu_depth;
static __thread int kshim_rcu_self;
static void (*kshim_readers_hook)(void); /* the driver lets a paused reader finish */

struct rcu_head {
	struct rcu_head *next;
	void (*func)(struct rcu_head *head);
};

static struct rcu_head *kshim_rcu_pending;
static struct rcu_head **kshim_rcu_tail = &kshim_rcu_pending;

static inline void call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *))
{
	head->next = NULL;
	head->func = func;
	*kshim_rcu_tail = head;
	kshim_rcu_tail = &head->next;
}

static inline void rcu_read_lock(void) { kshim_rcu_depth++; kshim_rcu_self++; }
static inline void rcu_read_unlock(void) { kshim_rcu_depth--; kshim_rcu_self--; }

/* One grace period, if no reader is inside: deferred work runs in queue order. */
static inline bool kshim_grace_period(void)
{
	if (kshim_rcu_depth)
		return false;
	while (kshim_rcu_pending) {
		struct rcu_head *head = kshim_rcu_pending;

		kshim_rcu_pending = head->next;
		if (!kshim_rcu_pending)
			kshim_rcu_tail = &kshim_rcu_pending;
		head->func(head);
	}
	return true;
}

static inline void synchronize_rcu(void)
{
	if (kshim_rcu_self)
		kshim_die("synchronize_rcu() inside an RCU read section (a deadlock)");
	if (kshim_rcu_depth && kshim_readers_hook)
		kshim_readers_hook();
	if (kshim_rcu_depth)
		kshim_die("synchronize_rcu() waits for a reader that never leaves");
	kshim_grace_period();
}

#define tracepoint_synchronize_unregister() synchronize_rcu()
#define lockdep_assert_in_rcu_read_lock() do {				\
	if (!kshim_rcu_self)						\
		kshim_die("RCU-protected access outside rcu_read_lock()"); \
} while (0)

static inline int *kshim_rcu_enter(void)
{
	rcu_read_lock();
	return &kshim_rcu_depth;
}

static inline void kshim_rcu_exit(int **depth)
{
	rcu_read_unlock();
}

/* --- preemption and interrupts ---------------------------------------------------- */

/*
 * Only counted: code that reads them (an env like irqs_disabled()) sees what
 * a section that disables them would give it.  Nothing preempts or
 * interrupts this thread either way.
 */
static __thread int kshim_preempt_depth;
static __thread int kshim_irqs_depth;

#define PREEMPT_MASK 0x000000ff
#define preempt_count() (kshim_preempt_depth)
#define preemptible() (kshim_preempt_depth == 0 && kshim_irqs_depth == 0)
#define irqs_disabled() (kshim_irqs_depth > 0)
#define preempt_disable() (kshim_preempt_depth++)
#define preempt_enable() (kshim_preempt_depth--)
#define local_irq_save(flags) ((flags) = kshim_irqs_depth++)
#define local_irq_restore(flags) (kshim_irqs_depth = (flags))

static inline int *kshim_preempt_off(void)
{
	kshim_preempt_depth++;
	return &kshim_preempt_depth;
}

static inline void kshim_preempt_on(int **depth)
{
	(**depth)--;
}

static inline int *kshim_irqs_off(void)
{
	kshim_irqs_depth++;
	return &kshim_irqs_depth;
}

static inline void kshim_irqs_on(int **depth)
{
	(**depth)--;
}

/* --- guard() and scoped_guard() from <linux/cleanup.h> ------------------------ */

#define KSHIM_CAT2(a, b) a##b
#define KSHIM_CAT(a, b) KSHIM_CAT2(a, b)
#define KSHIM_SCOPE(take, release) \
	int *KSHIM_CAT(kshim_scope_, __COUNTER__) __attribute__((cleanup(release), unused)) = take
#define KSHIM_SCOPED(take, release)					\
	for (int *kshim_scoped __attribute__((cleanup(release), unused)) = take, \
	     kshim_once = 1; kshim_once; kshim_once = 0)

static inline void kshim_nothing(int **unused) { }
static int kshim_no_lock;

#define guard(name) kshim_guard_##name
#define DEFINE_FREE(name, type, free)
#define scoped_guard(name, ...) kshim_scoped_##name(__VA_ARGS__)
#define kshim_guard_rcu() KSHIM_SCOPE(kshim_rcu_enter(), kshim_rcu_exit)
#define kshim_guard_spinlock(l) KSHIM_SCOPE(kshim_lock(&(l)->held), kshim_unlock)
#define kshim_guard_raw_spinlock(l) kshim_guard_spinlock(l)
#define kshim_guard_mutex(l) KSHIM_SCOPE(kshim_lock(&(l)->held), kshim_unlock)
/* one thread: nothing migrates it */
#define kshim_guard_migrate() KSHIM_SCOPE(&kshim_no_lock, kshim_nothing)
#define kshim_guard_preempt() KSHIM_SCOPE(kshim_preempt_off(), kshim_preempt_on)
#define kshim_guard_irqsave() KSHIM_SCOPE(kshim_irqs_off(), kshim_irqs_on)
#define kshim_scoped_preempt() KSHIM_SCOPED(kshim_preempt_off(), kshim_preempt_on)
#define kshim_scoped_irqsave() KSHIM_SCOPED(kshim_irqs_off(), kshim_irqs_on)
#define kshim_scoped_rcu() KSHIM_SCOPED(kshim_rcu_enter(), kshim_rcu_exit)
#define kshim_scoped_spinlock(l) KSHIM_SCOPED(kshim_lock(&(l)->held), kshim_unlock)
#define kshim_scoped_mutex(l) KSHIM_SCOPED(kshim_lock(&(l)->held), kshim_unlock)
#define kshim_scoped_read_lock(l) KSHIM_SCOPED(kshim_lock(&(l)->held), kshim_unlock)

/* --- CPUs and per-CPU data ----------------------------------------------------- */

#define KSHIM_NR_CPUS 2
static __thread int kshim_cpu; /* the CPU the current input line runs on */

#define DEFINE_PER_CPU(type, name) __typeof__(type) name[KSHIM_NR_CPUS]
#define this_cpu_ptr(ptr) (&(*(ptr))[kshim_cpu])
#define per_cpu_ptr(ptr, cpu) (&(*(ptr))[cpu])
#define __this_cpu_read(var) ((var)[kshim_cpu])
#define __this_cpu_write(var, v) ((var)[kshim_cpu] = (v))
#define this_cpu_read(var) __this_cpu_read(var)
#define this_cpu_write(var, v) __this_cpu_write(var, v)
#define smp_processor_id() kshim_cpu
#define cpu_online_mask NULL
#define for_each_cpu(cpu, mask) for ((cpu) = 0; (cpu) < KSHIM_NR_CPUS; (cpu)++)
#define for_each_present_cpu(cpu) for_each_cpu(cpu, NULL)
#define for_each_online_cpu(cpu) for_each_cpu(cpu, NULL)

#endif /* KSHIM_SYNC_H */
