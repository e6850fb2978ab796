/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <kunit/test-bug.h>: the test this thread runs (kunit/test.h). */
#ifndef KSHIM_KUNIT_TEST_BUG_H
#define KSHIM_KUNIT_TEST_BUG_H
#include <kunit/test.h>

static inline struct kunit *kunit_get_current_test(void)
{
	return kshim_kunit_current;
}
#endif
