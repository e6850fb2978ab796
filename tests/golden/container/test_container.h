/* SPDX-License-Identifier: GPL-2.0 */

extern struct rv_monitor rv_test_container;
