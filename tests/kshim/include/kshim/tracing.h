/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim stands in for kernel/trace/trace.h, the tracing core's own header,
 * which the verbatim kernel/trace/rv/rv.h includes: the file modes of tracefs.
 */
#ifndef KSHIM_TRACING_H
#define KSHIM_TRACING_H
#include <kshim/kshim.h>

#define TRACE_MODE_WRITE 0640
#define TRACE_MODE_READ 0440
#endif
