/* SPDX-License-Identifier: GPL-2.0 */
/* kshim: the tracepoints of interrupt handler entries, with mainline's prototypes; the driver fires them. */
#ifndef KSHIM_TRACE_EVENTS_IRQ_H
#define KSHIM_TRACE_EVENTS_IRQ_H
#include <linux/sched.h>

DECLARE_TRACE(irq_handler_entry, TP_PROTO(int irq, struct irqaction *action),
	      TP_ARGS(irq, action));
#endif
