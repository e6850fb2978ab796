/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of include/linux/rv.h and the bitmap helpers for a generated
 * LTL <m>.h to compile in user space: the three bitmaps of struct
 * ltl_monitor, test_bit() and __set_bit().  The whole ltl_monitor.h runs on
 * the project's kernel shim instead (tests/harness).
 */
#ifndef HAMODEL_LTL_TABLES_RV_H
#define HAMODEL_LTL_TABLES_RV_H

#include <assert.h>
#include <stdbool.h>

#define RV_MAX_LTL_ATOM 32
#define RV_MAX_BA_STATES 32
#define BITS_PER_LONG (8 * sizeof(long))
#define DECLARE_BITMAP(name, bits) \
	unsigned long name[((bits) + 8 * sizeof(long) - 1) / (8 * sizeof(long))]

struct task_struct;

struct ltl_monitor {
	DECLARE_BITMAP(states, RV_MAX_BA_STATES);
	DECLARE_BITMAP(atoms, RV_MAX_LTL_ATOM);
	DECLARE_BITMAP(unknown_atoms, RV_MAX_LTL_ATOM);
};

static inline bool test_bit(long nr, const unsigned long *addr)
{
	return (addr[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}

static inline void __set_bit(long nr, unsigned long *addr)
{
	addr[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

#endif
