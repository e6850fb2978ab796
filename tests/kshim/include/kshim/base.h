/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the kernel API that the headers in include/rv/ and generated monitors use,
 * implemented in user space so the verbatim RV framework headers compile and
 * run under a test driver (tests/kshim/driver.c).  The same idea as the
 * kernel's tools/testing/radix-tree: real kernel code, a small fake kernel
 * underneath.  This file: types, compiler words, BUG/WARN and printk.
 *
 * Everything runs on one thread.  "CPUs" are a number the driver sets, time
 * is a virtual clock the driver advances (kshim/time.h).
 */
#ifndef KSHIM_BASE_H
#define KSHIM_BASE_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <linux/kconfig.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef unsigned long long u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef long long s64;
typedef unsigned long long __u64;
typedef unsigned int gfp_t;

#define U8_MAX 0xffU
#define U32_MAX 0xffffffffU
#define U64_MAX 0xffffffffffffffffULL
#define S64_MAX 0x7fffffffffffffffLL
#define BITS_PER_LONG 64

#define __user
#define __init
#define __exit
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __always_unused __attribute__((unused))
#define __maybe_unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ___stringify(x...) #x
#define __stringify(x...) ___stringify(x)
#define __CONCAT_(a, b) a##b
#define CONCATENATE(a, b) __CONCAT_(a, b)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define max(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a > _b ? _a : _b; })
#define min(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; })
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

#define DECLARE_BITMAP(name, bits) unsigned long name[((bits) + BITS_PER_LONG - 1) / BITS_PER_LONG]

#define clamp_t(type, val, lo, hi) ({					\
	type __v = (val), __lo = (lo), __hi = (hi);				\
	__v < __lo ? __lo : __v > __hi ? __hi : __v;				\
})

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

#define MAX_ERRNO 4095
#define IS_ERR_VALUE(x) ((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE(ptr); }
static inline bool IS_ERR_OR_NULL(const void *ptr) { return !ptr || IS_ERR_VALUE(ptr); }

/*
 * Everything the kernel would print goes to stdout as one line with a time
 * stamp, so the test sees it in order with the trace; kshim_time_now() is
 * the driver's clock (kshim/time.h).
 */
static u64 kshim_now_ns;

static inline __printf(2, 3) void kshim_log(const char *tag, const char *fmt, ...)
{
	char line[1024];
	va_list args;
	size_t len;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	len = strlen(line);
	while (len && line[len - 1] == '\n')
		line[--len] = '\0';
	printf("%llu %s %s\n", kshim_now_ns, tag, line);
}

#define pr_warn(fmt, ...) kshim_log("pr_warn", fmt, ##__VA_ARGS__)
#define pr_info(fmt, ...) kshim_log("pr_info", fmt, ##__VA_ARGS__)
#define pr_err(fmt, ...) kshim_log("pr_err", fmt, ##__VA_ARGS__)

/* A WARN is a test failure: the line says so and the test looks for it. */
#define WARN_ONCE(cond, fmt...) ({					\
	bool __warned = !!(cond);					\
	if (__warned)							\
		kshim_log("WARNING", fmt);				\
	__warned;							\
})
#define WARN_ON(cond) WARN_ONCE(cond, "WARN_ON(%s) at %s:%d", #cond, __FILE__, __LINE__)
#define WARN_ON_ONCE(cond) WARN_ON(cond)
#define BUG_ON(cond) do {						\
	if (cond) {							\
		kshim_log("BUG", "BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
		exit(3);						\
	}								\
} while (0)
#define BUILD_BUG_ON(cond) _Static_assert(!(cond), #cond)
/* <linux/build_bug.h>: the message is optional */
#undef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)

/* Module glue: the driver calls the init and exit functions itself. */
#define module_init(fn) static int (*kshim_module_init)(void) __maybe_unused = fn
#define module_exit(fn) static void (*kshim_module_exit)(void) __maybe_unused = fn
#define MODULE_LICENSE(text)
#define MODULE_AUTHOR(text)
#define MODULE_DESCRIPTION(text)
#define EXPORT_SYMBOL_GPL(sym)
#define EXPORT_SYMBOL(sym)
#define MODULE_IMPORT_NS(ns)
#define module_param(name, type, perm) \
	static void *kshim_param_##name __maybe_unused = &name

#endif /* KSHIM_BASE_H */
