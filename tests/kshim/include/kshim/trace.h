/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: tracepoints.
 *
 * A tracepoint keeps the probes attached with register_trace_<name>() and
 * calls them in attach order.  Trace events (TRACE_EVENT, DECLARE_EVENT_CLASS,
 * DEFINE_EVENT, as the verbatim kernel/trace/rv/rv_trace.h and the monitors'
 * <m>_trace.h write them) also print one line per hit: the event's name and
 * its TP_printk() text, the body of what tracefs would show; every event is
 * enabled (trace_<event>_enabled() is true).  As in the kernel, the event
 * header is read twice: trace/define_trace.h re-includes it to build the
 * function that copies each __string() field from its source.
 */
#ifndef KSHIM_TRACE_H
#define KSHIM_TRACE_H

#include "base.h"

#define KSHIM_MAX_PROBES 8

struct kshim_probe {
	void *func;
	void *data;
};

static inline int kshim_register(struct kshim_probe *probes, void *func, void *data)
{
	for (int i = 0; i < KSHIM_MAX_PROBES; i++) {
		if (probes[i].func == func && probes[i].data == data)
			return -EEXIST;
	}
	for (int i = 0; i < KSHIM_MAX_PROBES; i++) {
		if (!probes[i].func) {
			probes[i].func = func;
			probes[i].data = data;
			return 0;
		}
	}
	return -ENOMEM;
}

static inline int kshim_unregister(struct kshim_probe *probes, void *func, void *data)
{
	for (int i = 0; i < KSHIM_MAX_PROBES; i++) {
		if (probes[i].func == func && probes[i].data == data) {
			probes[i].func = NULL;
			return 0;
		}
	}
	return -ENOENT;
}

static inline __printf(2, 3) void kshim_trace_print(const char *event, const char *fmt, ...)
{
	char body[1024];
	va_list args;

	va_start(args, fmt);
	vsnprintf(body, sizeof(body), fmt, args);
	va_end(args);
	printf("%llu trace %s: %s\n", kshim_now_ns, event, body);
}

#define PARAMS(args...) args
#define TP_PROTO(args...) args
#define TP_ARGS(args...) args
#define TP_CONDITION(args...) args
#define TP_STRUCT__entry(args...) args
#define TP_fast_assign(args...) args
#define TP_printk(fmt, args...) fmt, ##args

/* The probe list and register/unregister functions of tracepoint @name. */
#define KSHIM_PROBES(name, proto)							\
	static struct kshim_probe kshim_probes_##name[KSHIM_MAX_PROBES] __maybe_unused;	\
	static inline __maybe_unused int register_trace_##name(void (*probe)(void *, proto), \
							       void *data)		\
	{										\
		return kshim_register(kshim_probes_##name, (void *)probe, data);	\
	}										\
	static inline __maybe_unused int unregister_trace_##name(void (*probe)(void *, proto), \
								 void *data)		\
	{										\
		return kshim_unregister(kshim_probes_##name, (void *)probe, data);	\
	}										\
	static inline __maybe_unused void check_trace_callback_type_##name(void (*cb)(void *, proto)) \
	{										\
	}

#define KSHIM_CALL_PROBES(name, proto, args)						\
	for (int __i = 0; __i < KSHIM_MAX_PROBES; __i++) {				\
		struct kshim_probe *__p = &kshim_probes_##name[__i];			\
		if (__p->func)								\
			((void (*)(void *, proto))__p->func)(__p->data, args);		\
	}

/* A tracepoint without an event: probes only (the scheduler's, in trace/events/). */
#define DECLARE_TRACE(name, proto, args)						\
	KSHIM_PROBES(name, PARAMS(proto))						\
	static inline __maybe_unused void trace_##name(proto)				\
	{										\
		KSHIM_CALL_PROBES(name, PARAMS(proto), PARAMS(args))			\
	}

/* First reading of an event header: the entry, its printing and the tracepoint. */
#define __field(type, item) type item;
#define __array(type, item, len) type item[len];
#define __string(item, src) const char *item;
#define __assign_str(item...)
#define __get_str(item) (__entry->item)

#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)		\
	struct kshim_entry_##name { int kshim_unused; tstruct };			\
	static void kshim_strings_##name(struct kshim_entry_##name *__entry, proto);	\
	static inline __maybe_unused void kshim_emit_##name(const char *kshim_event, proto)	\
	{										\
		struct kshim_entry_##name kshim_entry = { 0 };				\
		struct kshim_entry_##name *__entry = &kshim_entry;			\
		kshim_strings_##name(__entry, args);					\
		{ assign }								\
		kshim_trace_print(kshim_event, print);					\
	}

#define DEFINE_EVENT(template, name, proto, args)					\
	KSHIM_PROBES(name, PARAMS(proto))						\
	static inline __maybe_unused void trace_##name(proto)				\
	{										\
		kshim_emit_##template(#name, args);					\
		KSHIM_CALL_PROBES(name, PARAMS(proto), PARAMS(args))			\
	}										\
	static inline __maybe_unused bool trace_##name##_enabled(void)			\
	{										\
		return true;								\
	}

#define TRACE_EVENT(name, proto, args, tstruct, assign, print)			\
	DECLARE_EVENT_CLASS(name, PARAMS(proto), PARAMS(args), PARAMS(tstruct),	\
			    PARAMS(assign), PARAMS(print))				\
	DEFINE_EVENT(name, name, PARAMS(proto), PARAMS(args))

#endif /* KSHIM_TRACE_H */
