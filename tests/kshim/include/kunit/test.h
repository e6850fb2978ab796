/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the part of KUnit a generated <m>_kunit.c uses.  A failed
 * expectation marks the case failed and says where, a failed assertion also
 * ends the case; tests/kshim/driver.c runs the suite ("kunit" mode).
 */
#ifndef KSHIM_KUNIT_TEST_H
#define KSHIM_KUNIT_TEST_H
#include <kshim/kshim.h>

struct kunit {
	const char *name;
	bool failed;
	void *allocations[64];
	int n_allocations;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char *name;
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn) { .run_case = fn, .name = #fn }
#define kunit_test_suite(suite) static struct kunit_suite *kshim_kunit_suite = &(suite)

static inline void *kunit_kzalloc(struct kunit *test, size_t size, int flags)
{
	void *p = calloc(1, size);

	if (p && test->n_allocations < (int)ARRAY_SIZE(test->allocations))
		test->allocations[test->n_allocations++] = p;
	return p;
}

#define KSHIM_KUNIT_FAIL(test, what, ...)						\
	do {										\
		(test)->failed = true;							\
		printf("# %s: %s:%d: %s", (test)->name, __FILE__, __LINE__, what);	\
		printf(" " __VA_ARGS__);						\
		printf("\n");								\
	} while (0)

#define KUNIT_EXPECT_EQ_MSG(test, left, right, ...)					\
	do {										\
		long long l_ = (long long)(left), r_ = (long long)(right);		\
		if (l_ != r_)								\
			KSHIM_KUNIT_FAIL(test, #left " == " #right, "%lld != %lld: ",	\
					   l_, r_);					\
		if (l_ != r_)								\
			printf("# " __VA_ARGS__), printf("\n");				\
	} while (0)
#define KUNIT_EXPECT_EQ(test, left, right) KUNIT_EXPECT_EQ_MSG(test, left, right, "%s", "")
#define KUNIT_EXPECT_STREQ_MSG(test, left, right, ...)					\
	do {										\
		if (strcmp(left, right))						\
			KSHIM_KUNIT_FAIL(test, #left " == " #right, "\"%s\" != \"%s\"",	\
					   left, right);				\
	} while (0)
#define KUNIT_ASSERT_EQ(test, left, right)						\
	do {										\
		long long l_ = (long long)(left), r_ = (long long)(right);		\
		if (l_ != r_) {								\
			KSHIM_KUNIT_FAIL(test, #left " == " #right, "%lld != %lld",	\
					   l_, r_);					\
			return;								\
		}									\
	} while (0)
#define KUNIT_ASSERT_NOT_NULL(test, ptr)						\
	do {										\
		if (!(ptr)) {								\
			KSHIM_KUNIT_FAIL(test, #ptr " != NULL", "%s", "");		\
			abort();							\
		}									\
	} while (0)
#endif
