/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <uapi/linux/sched/types.h> and the policies of <uapi/linux/sched.h>. */
#ifndef KSHIM_UAPI_LINUX_SCHED_TYPES_H
#define KSHIM_UAPI_LINUX_SCHED_TYPES_H
#include <kshim/kshim.h>

#define SCHED_NORMAL 0
#define SCHED_FIFO 1
#define SCHED_RR 2
#define SCHED_BATCH 3
#define SCHED_IDLE 5
#define SCHED_DEADLINE 6
#define SCHED_EXT 7
#define SCHED_RESET_ON_FORK 0x40000000
#define SCHED_FLAG_KEEP_POLICY 0x08

struct sched_attr {
	u32 size;
	u32 sched_policy;
	u64 sched_flags;
};

#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

static inline int copy_struct_from_user(void *dst, size_t ksize, const void __user *src,
					size_t usize)
{
	memcpy(dst, src, ksize < usize ? ksize : usize);
	return 0;
}
#endif
