/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness stand-in: attaching a handler stores it in harness_probe_<tracepoint>
 * (declared by the generated rv_trace.h stand-in), where the driver calls it.
 */
#ifndef HARNESS_RV_INSTRUMENTATION_H
#define HARNESS_RV_INSTRUMENTATION_H
#define rv_attach_trace_probe(monitor, tp, handler) ((void)(monitor), harness_probe_##tp = (handler))
#define rv_detach_trace_probe(monitor, tp, handler) ((void)(monitor), harness_probe_##tp = NULL)
#endif
