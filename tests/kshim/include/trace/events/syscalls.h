/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the tracepoints of system call entry and exit, with mainline's prototypes; the driver fires them. */
#ifndef KSHIM_TRACE_EVENTS_SYSCALLS_H
#define KSHIM_TRACE_EVENTS_SYSCALLS_H
#include <linux/sched.h>

DECLARE_TRACE(sys_enter, TP_PROTO(struct pt_regs *regs, long id), TP_ARGS(regs, id));
DECLARE_TRACE(sys_exit, TP_PROTO(struct pt_regs *regs, long ret), TP_ARGS(regs, ret));
#endif
