/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: what a monitor with its own tracefs file and uprobes uses (files,
 * seq_file, uprobes, RCU work items).  Paths are looked up in the real file
 * system; a tracefs file's operations are kept for the driver to call; a
 * uprobe is a (file, offset, consumer) the driver can hit.
 */
#ifndef KSHIM_FILES_H
#define KSHIM_FILES_H

#include <sys/stat.h>
#include "mem.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#define LOOKUP_FOLLOW 1

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

static int (*kshim_seq_show)(struct seq_file *s, void *v);

static inline int single_open(struct file *file, int (*show)(struct seq_file *, void *), void *d)
{
	kshim_seq_show = show;
	return 0;
}

static inline __printf(2, 3) void seq_printf(struct seq_file *s, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	s->len += vsnprintf(s->buf + s->len, sizeof(s->buf) - s->len, fmt, args);
	va_end(args);
}

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

static const struct file_operations *kshim_file_fops;
static char kshim_file_name[64];

static inline struct dentry *tracefs_create_file(const char *name, unsigned short mode,
						 struct dentry *parent, void *data,
						 const struct file_operations *fops)
{
	snprintf(kshim_file_name, sizeof(kshim_file_name), "%s", name);
	kshim_file_fops = fops;
	return NULL;
}

/* --- uprobes -------------------------------------------------------------------------- */

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

static struct uprobe kshim_uprobes[64];

static inline struct uprobe *uprobe_register(struct inode *inode, loff_t offset,
					     loff_t ref_ctr_offset, struct uprobe_consumer *uc)
{
	for (size_t i = 0; i < ARRAY_SIZE(kshim_uprobes); i++) {
		struct uprobe *u = &kshim_uprobes[i];

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
	if (uprobe->uc != uc)
		kshim_die("uprobe unregistered with another consumer");
	uprobe->used = false;
}

static inline void uprobe_unregister_sync(void)
{
}

/* --- work items run one RCU grace period after queueing ------------------------------------ */

struct work_struct {
	void (*func)(struct work_struct *work);
};

struct rcu_work {
	struct work_struct work;
	struct rcu_head rcu;
	bool pending;
};

struct workqueue_struct {
	int unused;
};

static struct workqueue_struct *system_wq __maybe_unused;

#define to_rcu_work(w) container_of(w, struct rcu_work, work)

static inline void INIT_RCU_WORK(struct rcu_work *rwork, void (*func)(struct work_struct *))
{
	rwork->work.func = func;
	rwork->pending = false;
}

static inline void kshim_rcu_work_run(struct rcu_head *head)
{
	struct rcu_work *rwork = container_of(head, struct rcu_work, rcu);

	rwork->pending = false;
	rwork->work.func(&rwork->work);
}

static inline bool queue_rcu_work(struct workqueue_struct *wq, struct rcu_work *rwork)
{
	if (!rwork->work.func)
		kshim_die("queue_rcu_work() on a work never initialized");
	if (rwork->pending)
		return false;
	rwork->pending = true;
	call_rcu(&rwork->rcu, kshim_rcu_work_run);
	return true;
}

static inline bool flush_rcu_work(struct rcu_work *rwork)
{
	if (!rwork->pending)
		return false;
	synchronize_rcu();
	return true;
}

#endif /* KSHIM_FILES_H */
