/* SPDX-License-Identifier: GPL-2.0 */
/* Harness stand-in: NULL and the basic types. */
#include <stddef.h>
