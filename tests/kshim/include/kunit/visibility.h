/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <kunit/visibility.h>: one program, nothing to export. */
#ifndef KSHIM_KUNIT_VISIBILITY_H
#define KSHIM_KUNIT_VISIBILITY_H
#define EXPORT_SYMBOL_IF_KUNIT(symbol)
#endif
