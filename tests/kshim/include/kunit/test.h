/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the part of KUnit that kernel/trace/rv/rv_monitors_test.c, <rv/kunit.h>
 * and the monitors' <m>_kunit.c use.  A failed expectation marks the case
 * failed and says where; a failed assertion or kunit_skip() also ends it (a
 * longjmp back to the runner, where KUnit ends the test's kthread).  Memory
 * from kunit_kzalloc() and actions from kunit_add_action_or_reset() are the
 * case's resources, released last first when it ends, as KUnit does.
 * tests/kshim/driver.c runs the suites ("kunit" mode) and prints a KTAP-like
 * line per case.
 */
#ifndef KSHIM_KUNIT_TEST_H
#define KSHIM_KUNIT_TEST_H
#include <setjmp.h>
#include <kshim/kshim.h>
#include <linux/sched.h>

#define KSHIM_KUNIT_RESOURCES 64

enum kshim_kunit_status { KSHIM_KUNIT_PASS, KSHIM_KUNIT_FAIL, KSHIM_KUNIT_SKIP };

struct kshim_kunit_resource {
	void (*release)(void *arg);
	void *arg;
};

struct kunit {
	const char *name;
	void *priv;
	enum kshim_kunit_status status;
	char skip_reason[256];
	struct kshim_kunit_resource resources[KSHIM_KUNIT_RESOURCES];
	int n_resources;
	jmp_buf end; /* where an assertion or a skip ends the case */
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	int (*suite_init)(struct kunit_suite *suite);
	void (*suite_exit)(struct kunit_suite *suite);
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

/* #test_name: the name as written, even when it is a macro (rv_test_stub) */
#define KUNIT_CASE(test_name) { .run_case = test_name, .name = #test_name }
#define kunit_test_suites(...) \
	static struct kunit_suite *kshim_kunit_suites[] __maybe_unused = { __VA_ARGS__, NULL }
#define kunit_test_suite(suite) kunit_test_suites(&(suite))

/* kunit/test-bug.h: the test the current thread runs, NULL outside one */
static struct kunit *kshim_kunit_current;

static inline __attribute__((noreturn)) void kshim_kunit_end(struct kunit *test)
{
	longjmp(test->end, 1);
}

typedef void (kunit_action_t)(void *);

static inline int kunit_add_action_or_reset(struct kunit *test, kunit_action_t *action,
					    void *arg)
{
	if (test->n_resources == KSHIM_KUNIT_RESOURCES) {
		action(arg);
		return -ENOMEM;
	}
	test->resources[test->n_resources++] = (struct kshim_kunit_resource){ action, arg };
	return 0;
}

static inline void kshim_kunit_kfree(void *p)
{
	kfree(p);
}

static inline void *kunit_kzalloc(struct kunit *test, size_t size, gfp_t gfp)
{
	void *p = kzalloc(size, gfp);

	if (p && kunit_add_action_or_reset(test, kshim_kunit_kfree, p))
		return NULL;
	return p;
}

/* Release the case's resources, the last one added first. */
static inline void kshim_kunit_release(struct kunit *test)
{
	while (test->n_resources > 0) {
		struct kshim_kunit_resource *r = &test->resources[--test->n_resources];

		r->release(r->arg);
	}
}

#define kunit_skip(test, fmt, ...)							\
	do {										\
		(test)->status = KSHIM_KUNIT_SKIP;					\
		snprintf((test)->skip_reason, sizeof((test)->skip_reason), fmt,		\
			 ##__VA_ARGS__);						\
		kshim_kunit_end(test);							\
	} while (0)

static inline void kshim_kunit_failed(struct kunit *test, const char *file, int line,
				      const char *what)
{
	test->status = KSHIM_KUNIT_FAIL;
	printf("    # %s: %s:%d: expected %s\n", test->name, file, line, what);
}

/* An expectation (end = false) or an assertion (end = true) on two values. */
#define KSHIM_KUNIT_BINARY(test, end, left, op, right, fmt, ...)			\
	do {										\
		__typeof__(left) l_ = (left);						\
		__typeof__(right) r_ = (right);					\
		if (!(l_ op r_)) {							\
			kshim_kunit_failed(test, __FILE__, __LINE__,			\
					   #left " " #op " " #right);			\
			printf("    # %s: left %lld, right %lld " fmt "\n",		\
			       (test)->name, (long long)l_, (long long)r_,		\
			       ##__VA_ARGS__);						\
			if (end)							\
				kshim_kunit_end(test);					\
		}									\
	} while (0)

#define KSHIM_KUNIT_STR(test, end, left, op, right, fmt, ...)				\
	do {										\
		const char *l_ = (left), *r_ = (right);				\
		if (!(strcmp(l_, r_) op 0)) {						\
			kshim_kunit_failed(test, __FILE__, __LINE__,			\
					   #left " " #op " " #right);			\
			printf("    # %s: left \"%s\", right \"%s\" " fmt "\n",		\
			       (test)->name, l_, r_, ##__VA_ARGS__);			\
			if (end)							\
				kshim_kunit_end(test);					\
		}									\
	} while (0)

#define KSHIM_KUNIT_COND(test, end, cond, what)						\
	do {										\
		if (!(cond)) {								\
			kshim_kunit_failed(test, __FILE__, __LINE__, what);		\
			if (end)							\
				kshim_kunit_end(test);					\
		}									\
	} while (0)

#define KUNIT_EXPECT_EQ_MSG(test, l, r, fmt, ...) \
	KSHIM_KUNIT_BINARY(test, false, l, ==, r, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_EQ(test, l, r) KSHIM_KUNIT_BINARY(test, false, l, ==, r, "")
#define KUNIT_EXPECT_NE(test, l, r) KSHIM_KUNIT_BINARY(test, false, l, !=, r, "")
#define KUNIT_EXPECT_LT(test, l, r) KSHIM_KUNIT_BINARY(test, false, l, <, r, "")
#define KUNIT_EXPECT_LE(test, l, r) KSHIM_KUNIT_BINARY(test, false, l, <=, r, "")
#define KUNIT_EXPECT_GT(test, l, r) KSHIM_KUNIT_BINARY(test, false, l, >, r, "")
#define KUNIT_EXPECT_GE(test, l, r) KSHIM_KUNIT_BINARY(test, false, l, >=, r, "")
#define KUNIT_EXPECT_TRUE(test, c) KSHIM_KUNIT_COND(test, false, c, #c " is true")
#define KUNIT_EXPECT_FALSE(test, c) KSHIM_KUNIT_COND(test, false, !(c), #c " is false")
#define KUNIT_EXPECT_NULL(test, p) KSHIM_KUNIT_COND(test, false, !(p), #p " is NULL")
#define KUNIT_EXPECT_NOT_NULL(test, p) KSHIM_KUNIT_COND(test, false, (p), #p " is not NULL")
#define KUNIT_EXPECT_STREQ_MSG(test, l, r, fmt, ...) \
	KSHIM_KUNIT_STR(test, false, l, ==, r, fmt, ##__VA_ARGS__)
#define KUNIT_EXPECT_STREQ(test, l, r) KSHIM_KUNIT_STR(test, false, l, ==, r, "")
#define KUNIT_EXPECT_STRNEQ(test, l, r) KSHIM_KUNIT_STR(test, false, l, !=, r, "")

#define KUNIT_ASSERT_EQ_MSG(test, l, r, fmt, ...) \
	KSHIM_KUNIT_BINARY(test, true, l, ==, r, fmt, ##__VA_ARGS__)
#define KUNIT_ASSERT_EQ(test, l, r) KSHIM_KUNIT_BINARY(test, true, l, ==, r, "")
#define KUNIT_ASSERT_NE(test, l, r) KSHIM_KUNIT_BINARY(test, true, l, !=, r, "")
#define KUNIT_ASSERT_LT(test, l, r) KSHIM_KUNIT_BINARY(test, true, l, <, r, "")
#define KUNIT_ASSERT_LE(test, l, r) KSHIM_KUNIT_BINARY(test, true, l, <=, r, "")
#define KUNIT_ASSERT_GT(test, l, r) KSHIM_KUNIT_BINARY(test, true, l, >, r, "")
#define KUNIT_ASSERT_GE(test, l, r) KSHIM_KUNIT_BINARY(test, true, l, >=, r, "")
#define KUNIT_ASSERT_TRUE(test, c) KSHIM_KUNIT_COND(test, true, c, #c " is true")
#define KUNIT_ASSERT_FALSE(test, c) KSHIM_KUNIT_COND(test, true, !(c), #c " is false")
#define KUNIT_ASSERT_NOT_NULL(test, p) KSHIM_KUNIT_COND(test, true, (p), #p " is not NULL")
#define KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p) \
	KSHIM_KUNIT_COND(test, true, !IS_ERR_OR_NULL(p), #p " is a pointer")
#define KUNIT_ASSERT_STREQ(test, l, r) KSHIM_KUNIT_STR(test, true, l, ==, r, "")

#endif
