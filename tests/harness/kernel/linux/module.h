/* SPDX-License-Identifier: GPL-2.0 */
/* Harness stand-in for the module macros a monitor uses. */
#ifndef HARNESS_LINUX_MODULE_H
#define HARNESS_LINUX_MODULE_H
#define __init
#define __exit
#define module_init(fn) int (*harness_module_init)(void) = fn
#define module_exit(fn) void (*harness_module_exit)(void) = fn
#define MODULE_LICENSE(text) static const char *harness_license __attribute__((unused)) = text
#define MODULE_AUTHOR(text) static const char *harness_author __attribute__((unused)) = text
#define MODULE_DESCRIPTION(text) \
	static const char *harness_description __attribute__((unused)) = text
#define module_param(name, type, perm) static void *harness_param_##name __attribute__((unused)) = &name
#endif
