/* SPDX-License-Identifier: GPL-2.0 */
/* kshim stands in for <uapi/linux/futex.h>: the operations monitors name. */
#ifndef KSHIM_UAPI_LINUX_FUTEX_H
#define KSHIM_UAPI_LINUX_FUTEX_H
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#endif
