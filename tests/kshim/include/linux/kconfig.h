/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kshim stands in for <linux/kconfig.h>, which the kernel's build includes in
 * every file first (a build of rv_monitors_test.c does too): IS_ENABLED() and
 * friends on the CONFIG_ symbols of the build's autoconf.h.
 */
#ifndef KSHIM_LINUX_KCONFIG_H
#define KSHIM_LINUX_KCONFIG_H
/* the kernel's trick: a CONFIG_ symbol defined as 1 expands to a non-empty word */
#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __is_defined(x) ___is_defined(x)
#define ___is_defined(val) ____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk) __take_second_arg(arg1_or_junk 1, 0)
#define IS_ENABLED(option) __is_defined(option)
#define IS_BUILTIN(option) __is_defined(option)
/* one program: whatever is enabled is built in, so reachable */
#define IS_REACHABLE(option) __is_defined(option)
#endif
