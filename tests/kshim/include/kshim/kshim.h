/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: every part but tasks (kshim/task.h needs the verbatim <linux/rv.h> first). */
#ifndef KSHIM_H
#define KSHIM_H
#include "base.h"
#include "sync.h"
#include "mem.h"
#include "time.h"
#include "trace.h"
#include "files.h"
#include "bitmap.h"
#endif
