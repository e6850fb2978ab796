/* SPDX-License-Identifier: GPL-2.0 */
/* Harness stand-in: see ../harness_kernel.h. */
#include "../harness_kernel.h"
