/* SPDX-License-Identifier: GPL-2.0 */
/* Harness stand-in: nothing from this header is needed in user space. */
