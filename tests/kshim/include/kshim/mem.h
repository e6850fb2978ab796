/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: memory, strings, lists, hash tables and seq_buf.
 *
 * Allocations carry their size so kfree() can tell kshim/time.h to forget
 * the timers inside the freed block: freeing an armed timer is reported as a
 * BUG (a use-after-free in the kernel).  kshim_fail_allocs makes the next
 * allocations fail, for -ENOMEM paths.
 */
#ifndef KSHIM_MEM_H
#define KSHIM_MEM_H

#include "sync.h"

#define GFP_KERNEL 0x1u
#define GFP_NOWAIT 0x2u
#define GFP_ATOMIC 0x4u
#define __GFP_ZERO 0x100u
#define NUMA_NO_NODE (-1)

struct kshim_block {
	size_t size;
	unsigned long magic;
	max_align_t data[];
};

#define KSHIM_BLOCK_MAGIC 0x6b6d616c6c6f63UL
static int kshim_fail_allocs;

static void kshim_forget_timers(void *start, size_t size); /* kshim/time.h */

static inline void *kmalloc(size_t size, gfp_t flags)
{
	struct kshim_block *b;

	if (kshim_fail_allocs > 0) {
		kshim_fail_allocs--;
		return NULL;
	}
	b = calloc(1, sizeof(*b) + size);
	if (!b)
		kshim_die("out of memory");
	b->size = size;
	b->magic = KSHIM_BLOCK_MAGIC;
	if (!(flags & __GFP_ZERO))
		memset(b->data, 0xa5, size); /* the kernel does not clear it either */
	return b->data;
}

static inline void *kzalloc(size_t size, gfp_t flags)
{
	return kmalloc(size, flags | __GFP_ZERO);
}

static inline void *kmalloc_nolock(size_t size, gfp_t flags, int node)
{
	return kmalloc(size, flags);
}

static inline void kfree(const void *p)
{
	struct kshim_block *b;

	if (!p)
		return;
	b = container_of((void *)p, struct kshim_block, data);
	if (b->magic != KSHIM_BLOCK_MAGIC)
		kshim_die("kfree() of memory kmalloc() did not return");
	kshim_forget_timers(b->data, b->size);
	b->magic = 0;
	free(b);
}

struct kshim_deferred_free {
	struct rcu_head head;
	const void *ptr;
};

static inline void kshim_free_deferred(struct rcu_head *head)
{
	struct kshim_deferred_free *d = container_of(head, struct kshim_deferred_free, head);

	kfree(d->ptr);
	free(d);
}

#define kfree_rcu(ptr, field) kshim_kfree_rcu(ptr)
static inline void kshim_kfree_rcu(const void *p)
{
	struct kshim_deferred_free *d = calloc(1, sizeof(*d));

	if (!d)
		kshim_die("out of memory");
	d->ptr = p;
	call_rcu(&d->head, kshim_free_deferred);
}

static inline char *kstrdup(const char *s, gfp_t flags)
{
	char *p = kmalloc(strlen(s) + 1, flags);

	return p ? strcpy(p, s) : NULL;
}

static inline void *memdup_user_nul(const void __user *src, size_t len)
{
	char *p = kmalloc(len + 1, GFP_KERNEL);

	if (!p)
		return ERR_PTR(-ENOMEM);
	memcpy(p, src, len);
	p[len] = '\0';
	return p;
}

/* --- strings ----------------------------------------------------------------------- */

static inline bool kshim_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static inline char *strim(char *s)
{
	size_t size = strlen(s);
	char *end;

	if (!size)
		return s;
	end = s + size - 1;
	while (end >= s && kshim_isspace(*end))
		end--;
	*(end + 1) = '\0';
	while (kshim_isspace(*s))
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

/* kstrtoull: optional '+', in base 16 an optional 0x, digits, one optional '\n'. */
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

/* --- lists and hash tables ------------------------------------------------------------ */

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
#define list_for_each_entry(pos, head, member)						\
	for (pos = list_entry((head)->next, __typeof__(*pos), member);			\
	     &pos->member != (head);							\
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
#define list_for_each_entry_safe(pos, n, head, member)					\
	for (pos = list_entry((head)->next, __typeof__(*pos), member),			\
	     n = list_entry(pos->member.next, __typeof__(*pos), member);		\
	     &pos->member != (head);							\
	     pos = n, n = list_entry(n->member.next, __typeof__(*n), member))

struct hlist_node {
	struct hlist_node *next, **pprev;
};

struct hlist_head {
	struct hlist_node *first;
};

static inline void hlist_add_head(struct hlist_node *n, struct hlist_head *h)
{
	n->next = h->first;
	if (h->first)
		h->first->pprev = &n->next;
	h->first = n;
	n->pprev = &h->first;
}

static inline void hlist_del(struct hlist_node *n)
{
	*n->pprev = n->next;
	if (n->next)
		n->next->pprev = n->pprev;
	n->next = NULL;
	n->pprev = NULL;
}

#define hlist_entry_safe(ptr, type, member) \
	((ptr) ? container_of(ptr, type, member) : NULL)
#define hlist_for_each_entry(pos, head, member)						\
	for (pos = hlist_entry_safe((head)->first, __typeof__(*pos), member); pos;	\
	     pos = hlist_entry_safe(pos->member.next, __typeof__(*pos), member))
#define hlist_for_each_entry_safe(pos, n, head, member)					\
	for (pos = hlist_entry_safe((head)->first, __typeof__(*pos), member);		\
	     pos && ({ n = pos->member.next; 1; });					\
	     pos = hlist_entry_safe(n, __typeof__(*pos), member))

/* <linux/hashtable.h>: any hash is right, the bucket is key modulo the size */
#define DEFINE_HASHTABLE(name, bits) struct hlist_head name[1 << (bits)]
#define kshim_bucket(table, key) (&(table)[(unsigned long)(key) % ARRAY_SIZE(table)])
#define hash_init(table) memset(table, 0, sizeof(table))
#define hash_add_rcu(table, node, key) hlist_add_head(node, kshim_bucket(table, key))
#define hash_del_rcu(node) hlist_del(node)
#define hash_for_each_possible_rcu(table, obj, member, key) \
	hlist_for_each_entry(obj, kshim_bucket(table, key), member)
#define hash_for_each_rcu(table, bkt, obj, member)					\
	for ((bkt) = 0; (bkt) < (int)ARRAY_SIZE(table); (bkt)++)			\
		hlist_for_each_entry(obj, &(table)[bkt], member)
#define hash_for_each_safe(table, bkt, tmp, obj, member)				\
	for ((bkt) = 0; (bkt) < (int)ARRAY_SIZE(table); (bkt)++)			\
		hlist_for_each_entry_safe(obj, tmp, &(table)[bkt], member)

/* --- <linux/seq_buf.h> ------------------------------------------------------------------ */

struct seq_buf {
	char *buffer;
	size_t size;
	size_t len;
};

#define DECLARE_SEQ_BUF(name, sz) \
	struct seq_buf name = { .buffer = (char[sz]) { 0 }, .size = (sz), .len = 0 }

/* as the kernel's: text that does not fit marks the buffer full (len = size) */
static inline __printf(2, 3) int seq_buf_printf(struct seq_buf *s, const char *fmt, ...)
{
	va_list args;
	int len;

	if (s->len < s->size) {
		va_start(args, fmt);
		len = vsnprintf(s->buffer + s->len, s->size - s->len, fmt, args);
		va_end(args);
		if (s->len + len < s->size) {
			s->len += len;
			return 0;
		}
	}
	s->len = s->size;
	return -1;
}

#endif /* KSHIM_MEM_H */
