/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <asm/syscall.h>: a system call's arguments, from kshim's pt_regs. */
#ifndef KSHIM_ASM_SYSCALL_H
#define KSHIM_ASM_SYSCALL_H
#include <linux/sched.h>

static inline void syscall_get_arguments(struct task_struct *task, struct pt_regs *regs,
					 unsigned long *args)
{
	memset(args, 0, 6 * sizeof(*args));
}

static inline void syscall_set_arguments(struct task_struct *task, struct pt_regs *regs,
					 const unsigned long *args)
{
}
#endif
