/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim: the second reading of an event header (see kshim/trace.h).  Each
 * event class gets the function that points its __string() fields at their
 * sources; everything else in the header expands to nothing this time.
 */
#ifndef TRACE_HEADER_MULTI_READ
#include <kshim/trace.h>

#undef __field
#undef __array
#undef __string
#undef DECLARE_EVENT_CLASS
#undef DEFINE_EVENT
#undef TRACE_EVENT

#define __field(type, item)
#define __array(type, item, len)
#define __string(item, src) __entry->item = (src);
#define DECLARE_EVENT_CLASS(name, proto, args, tstruct, assign, print)		\
	static void kshim_strings_##name(struct kshim_entry_##name *__entry, proto)	\
	{										\
		tstruct									\
	}
#define DEFINE_EVENT(template, name, proto, args)
#define TRACE_EVENT(name, proto, args, tstruct, assign, print)			\
	DECLARE_EVENT_CLASS(name, PARAMS(proto), PARAMS(args), PARAMS(tstruct),	\
			    PARAMS(assign), PARAMS(print))

#define TRACE_HEADER_MULTI_READ
#define KSHIM_TRACE_INCLUDE(file) __stringify(TRACE_INCLUDE_PATH/file.h)
#include KSHIM_TRACE_INCLUDE(TRACE_INCLUDE_FILE)
#undef TRACE_HEADER_MULTI_READ
#endif /* the header reads this file again at its end: once is all */
