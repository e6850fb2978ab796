/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <linux/mutex.h>: see tests/kshim/include/kshim/. */
#include <kshim/kshim.h>
