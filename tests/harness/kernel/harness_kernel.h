/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space stand-ins for the kernel API a whole generated monitor source
 * (<m>.c with its handlers, start/stop, tracefs binding file and KUnit cases)
 * uses, so tests/harness/obj_driver.c can run it.  Every header under
 * tests/harness/kernel/ includes this one.  Written from the documented
 * behaviour of the kernel functions, not copied from them; docs/kernel-c.md
 * lists what each stands in for.
 *
 * Locks are checked, not ignored: taking a held spinlock or mutex aborts
 * (it would deadlock in the kernel), and guard() releases at scope end.
 */
#ifndef HARNESS_KERNEL_H
#define HARNESS_KERNEL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

typedef unsigned long long u64; /* as the kernel defines it */
typedef long long s64;
typedef unsigned long long __u64;
#define MAX_HA_ENV_LEN 1 /* include/linux/rv.h */

#define __user
#define likely(x) (x)
#define unlikely(x) (x)
#define READ_ONCE(x) (x)
#define WRITE_ONCE(x, v) ((x) = (v))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define IS_ENABLED(option) option
#define GFP_KERNEL 0
#define GFP_NOWAIT 1
#define LOOKUP_FOLLOW 1
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE(ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR_VALUE(ptr); }

/* --- time: one global clock, set by the driver ------------------------------ */

static u64 harness_now;
static u64 harness_tick_ns;
static u64 harness_epoch; /* printed times are relative to it */

static u64 harness_ns_per_read; /* KUnit mode: each read is this much later */

static inline u64 ktime_get_ns(void)
{
	harness_now += harness_ns_per_read;
	return harness_now;
}

/* --- tasks ------------------------------------------------------------------ */

struct task_struct {
	int pid;
	int prio;
	int exit_state;
};

/* include/linux/sched.h task states */
#define TASK_RUNNING 0x0000
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_REPORT 0x007f
#define TASK_REPORT_IDLE 0x0080
#define TASK_IDLE 0x0402
#define TASK_RTLOCK_WAIT 0x1000
#define TASK_FROZEN 0x8000

static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}
static struct task_struct *current;

/* --- locks: checked, released at scope end by guard() ------------------------ */

typedef struct {
	int held;
} spinlock_t;

struct mutex {
	int held;
};

#define DEFINE_SPINLOCK(x) spinlock_t x = { 0 }
#define DEFINE_MUTEX(x) struct mutex x = { 0 }

static inline int *harness_take(int *held, const char *what)
{
	if (*held) {
		fprintf(stderr, "harness: %s taken twice (a kernel deadlock)\n", what);
		abort();
	}
	*held = 1;
	return held;
}

static inline void harness_release(int **held)
{
	if (*held)
		**held = 0;
}

static int harness_rcu_depth;

static inline int *harness_rcu_lock(void)
{
	harness_rcu_depth++;
	return &harness_rcu_depth;
}

static inline void harness_rcu_unlock(int **depth)
{
	--**depth;
}

#define HARNESS_CAT2(a, b) a##b
#define HARNESS_CAT(a, b) HARNESS_CAT2(a, b)
#define HARNESS_SCOPE(take, release) \
	int *HARNESS_CAT(harness_scope_, __COUNTER__) __attribute__((cleanup(release), unused)) = take
#define guard(name) harness_guard_##name
#define harness_guard_spinlock(lock) \
	HARNESS_SCOPE(harness_take(&(lock)->held, "spinlock"), harness_release)
#define harness_guard_mutex(lock) HARNESS_SCOPE(harness_take(&(lock)->held, "mutex"), harness_release)
#define harness_guard_rcu() HARNESS_SCOPE(harness_rcu_lock(), harness_rcu_unlock)
#define harness_guard_preempt() ((void)0) /* one thread: nothing preempts it */
#define DEFINE_PER_CPU(type, name) type name /* one CPU */
#define __this_cpu_write(var, value) ((var) = (value))
#define __this_cpu_read(var) (var)
#define scoped_guard(name, ...) harness_scoped_##name(__VA_ARGS__)
#define harness_scoped_rcu() \
	for (int *harness_scoped __attribute__((cleanup(harness_rcu_unlock), unused)) = harness_rcu_lock(), \
	     harness_once = 1; harness_once; harness_once = 0)
#define harness_scoped_spinlock(lock) \
	for (int *harness_scoped __attribute__((cleanup(harness_release), unused)) = \
	     harness_take(&(lock)->held, "spinlock"), harness_once = 1; harness_once; harness_once = 0)

/*
 * --- RCU work: queue_rcu_work() runs its work after a grace period -----------
 *
 * A grace period ends only outside every RCU read section: the driver calls
 * harness_grace_period() between input lines, and a handler it holds "inside"
 * (passed da_monitoring(), not finished) keeps harness_rcu_depth above zero.
 */

struct work_struct {
	void (*func)(struct work_struct *work);
};

struct rcu_work {
	struct work_struct work;
	bool pending;
};

struct workqueue_struct {
	int unused;
};

static struct workqueue_struct *system_wq __attribute__((unused));

#define HARNESS_RCU_WORKS 64
static struct rcu_work *harness_rcu_works[HARNESS_RCU_WORKS];
static int harness_rcu_work_count;

#define to_rcu_work(w) container_of(w, struct rcu_work, work)

static inline void INIT_RCU_WORK(struct rcu_work *rwork, void (*func)(struct work_struct *))
{
	rwork->work.func = func;
	rwork->pending = false;
}

static inline bool queue_rcu_work(struct workqueue_struct *wq, struct rcu_work *rwork)
{
	if (!rwork->work.func) {
		fprintf(stderr, "harness: queue_rcu_work() on a work never initialized\n");
		abort();
	}
	if (rwork->pending)
		return false;
	if (harness_rcu_work_count == HARNESS_RCU_WORKS) {
		fprintf(stderr, "harness: too many pending RCU works\n");
		abort();
	}
	rwork->pending = true;
	harness_rcu_works[harness_rcu_work_count++] = rwork;
	return true;
}

static inline void harness_run_rcu_work(struct rcu_work *rwork)
{
	for (int i = 0; i < harness_rcu_work_count; i++) {
		if (harness_rcu_works[i] != rwork)
			continue;
		memmove(&harness_rcu_works[i], &harness_rcu_works[i + 1],
			(harness_rcu_work_count - i - 1) * sizeof(harness_rcu_works[0]));
		harness_rcu_work_count--;
		break;
	}
	rwork->pending = false;
	rwork->work.func(&rwork->work);
}

/* A grace period: when no reader is inside, every pending work runs, in queue order. */
static inline void harness_grace_period(void)
{
	if (harness_rcu_depth)
		return;
	while (harness_rcu_work_count)
		harness_run_rcu_work(harness_rcu_works[0]);
}

/* Waits for the grace period and the work: with a reader inside, a deadlock here. */
static inline bool flush_rcu_work(struct rcu_work *rwork)
{
	if (!rwork->pending)
		return false;
	if (harness_rcu_depth) {
		fprintf(stderr, "harness: flush_rcu_work() inside an RCU read section (a deadlock)\n");
		abort();
	}
	harness_run_rcu_work(rwork);
	return true;
}

/* --- memory and strings ------------------------------------------------------- */

static inline void *kzalloc(size_t size, int flags)
{
	return calloc(1, size);
}

static inline void kfree(const void *p)
{
	free((void *)p);
}

static inline char *kstrdup(const char *s, int flags)
{
	return strdup(s);
}

static inline void *memdup_user_nul(const void __user *src, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		return ERR_PTR(-ENOMEM);
	memcpy(p, src, len);
	p[len] = '\0';
	return p;
}

static inline bool harness_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Leading and trailing whitespace removed; the result points into s. */
static inline char *strim(char *s)
{
	size_t size = strlen(s);
	char *end;

	if (!size)
		return s;
	end = s + size - 1;
	while (end >= s && harness_isspace(*end))
		end--;
	*(end + 1) = '\0';
	while (harness_isspace(*s))
		s++;
	return s;
}

static inline size_t str_has_prefix(const char *str, const char *prefix)
{
	size_t len = strlen(prefix);

	return strncmp(str, prefix, len) == 0 ? len : 0;
}

static inline ssize_t strscpy(char *dst, const char *src, size_t size)
{
	size_t len = strnlen(src, size);

	if (len == size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, len + 1);
	return len;
}

/*
 * kstrtoull: an optional '+', in base 16 an optional 0x, at least one digit,
 * at most one trailing newline, nothing else; -ERANGE past U64_MAX.
 */
static inline int kstrtoull(const char *s, unsigned int base, unsigned long long *res)
{
	unsigned long long value = 0;
	const char *p;

	if (s[0] == '+')
		s++;
	if (base == 16 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (p = s; *p; p++) {
		unsigned int digit;

		if (*p >= '0' && *p <= '9')
			digit = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			digit = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			digit = *p - 'A' + 10;
		else
			break;
		if (digit >= base)
			break;
		if (value > (ULLONG_MAX - digit) / base)
			return -ERANGE;
		value = value * base + digit;
	}
	if (p == s)
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	*res = value;
	return 0;
}

static inline int kstrtou64(const char *s, unsigned int base, u64 *res)
{
	unsigned long long value;
	int ret = kstrtoull(s, base, &value);

	if (!ret)
		*res = value;
	return ret;
}

/* --- lists --------------------------------------------------------------------- */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD(name) struct list_head name = { &(name), &(name) }

static inline void list_add_tail(struct list_head *entry, struct list_head *head)
{
	entry->prev = head->prev;
	entry->next = head;
	head->prev->next = entry;
	head->prev = entry;
}

static inline void list_del(struct list_head *entry)
{
	entry->prev->next = entry->next;
	entry->next->prev = entry->prev;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_for_each_entry(pos, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member), \
	     n = list_entry(pos->member.next, __typeof__(*pos), member); &pos->member != (head); \
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

/* --- files: paths are looked up in the real file system ------------------------- */

struct inode {
	unsigned int i_mode;
	char name[PATH_MAX];
};

struct dentry {
	struct inode inode;
};

struct path {
	struct dentry *dentry;
};

static inline int kern_path(const char *name, unsigned int flags, struct path *path)
{
	struct stat st;

	if (stat(name, &st))
		return -ENOENT;
	path->dentry = calloc(1, sizeof(*path->dentry));
	path->dentry->inode.i_mode = st.st_mode;
	snprintf(path->dentry->inode.name, sizeof(path->dentry->inode.name), "%s", name);
	return 0;
}

static inline struct inode *d_real_inode(struct dentry *dentry)
{
	return &dentry->inode;
}

static inline void path_put(struct path *path)
{
	free(path->dentry);
}

struct file {
	void *private_data;
};

struct seq_file {
	char buf[8192];
	size_t len;
};

struct file_operations {
	int (*open)(struct inode *inode, struct file *file);
	ssize_t (*read)(struct file *file, char __user *buf, size_t count, loff_t *ppos);
	ssize_t (*write)(struct file *file, const char __user *buf, size_t count, loff_t *ppos);
	loff_t (*llseek)(struct file *file, loff_t offset, int whence);
	int (*release)(struct inode *inode, struct file *file);
};

static int (*harness_seq_show)(struct seq_file *s, void *v);

static inline int single_open(struct file *file, int (*show)(struct seq_file *, void *), void *d)
{
	harness_seq_show = show;
	return 0;
}

__attribute__((format(printf, 2, 3)))
static inline void seq_printf(struct seq_file *s, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	s->len += vsnprintf(s->buf + s->len, sizeof(s->buf) - s->len, fmt, args);
	va_end(args);
}

/* The driver reads through harness_seq_show; these only fill the table. */
static inline ssize_t seq_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	return 0;
}

static inline loff_t seq_lseek(struct file *file, loff_t offset, int whence)
{
	return 0;
}

static inline int single_release(struct inode *inode, struct file *file)
{
	return 0;
}

static const struct file_operations *harness_monitor_fops;
static char harness_monitor_file[64];

static inline struct dentry *tracefs_create_file(const char *name, unsigned short mode,
						 struct dentry *parent, void *data,
						 const struct file_operations *fops)
{
	snprintf(harness_monitor_file, sizeof(harness_monitor_file), "%s", name);
	harness_monitor_fops = fops;
	return NULL;
}

/* --- uprobes: a table of (file, offset, consumer) the driver can hit -------------- */

struct pt_regs {
	int unused;
};

struct uprobe_consumer {
	int (*handler)(struct uprobe_consumer *self, struct pt_regs *regs, __u64 *data);
};

struct uprobe {
	bool used;
	char path[PATH_MAX];
	loff_t offset;
	struct uprobe_consumer *uc;
};

static struct uprobe harness_uprobes[64];

static inline struct uprobe *uprobe_register(struct inode *inode, loff_t offset,
					     loff_t ref_ctr_offset, struct uprobe_consumer *uc)
{
	for (size_t i = 0; i < ARRAY_SIZE(harness_uprobes); i++) {
		struct uprobe *u = &harness_uprobes[i];

		if (u->used)
			continue;
		u->used = true;
		snprintf(u->path, sizeof(u->path), "%s", inode->name);
		u->offset = offset;
		u->uc = uc;
		return u;
	}
	return ERR_PTR(-ENOMEM);
}

static inline void uprobe_unregister_nosync(struct uprobe *uprobe, struct uprobe_consumer *uc)
{
	if (uprobe->uc != uc) {
		fprintf(stderr, "harness: uprobe unregistered with another consumer\n");
		abort();
	}
	uprobe->used = false;
}

static inline void uprobe_unregister_sync(void)
{
}

/* --- module and rv registration ---------------------------------------------------- */

#define __init
#define __exit
#define module_init(fn) int (*harness_module_init)(void) = fn
#define module_exit(fn) void (*harness_module_exit)(void) = fn
#define MODULE_LICENSE(text) static const char *harness_license __attribute__((unused)) = text
#define MODULE_AUTHOR(text) static const char *harness_author __attribute__((unused)) = text
#define MODULE_DESCRIPTION(text) \
	static const char *harness_description __attribute__((unused)) = text
#define module_param(name, type, perm) \
	static void *harness_param_##name __attribute__((unused)) = &name

struct rv_monitor {
	const char *name;
	const char *description;
	bool enabled;
	int (*enable)(void);
	void (*disable)(void);
	void (*reset)(void);
	struct dentry *root_d;
};

static inline int rv_register_monitor(struct rv_monitor *monitor, struct rv_monitor *parent)
{
	return 0;
}

static inline int rv_unregister_monitor(struct rv_monitor *monitor)
{
	return 0;
}

static inline bool rv_monitoring_on(void)
{
	return true;
}

#endif /* HARNESS_KERNEL_H */
