/* SPDX-License-Identifier: GPL-2.0 */
/* Harness stand-in for struct rv_monitor and its registration. */
#ifndef HARNESS_LINUX_RV_H
#define HARNESS_LINUX_RV_H
#include <stdbool.h>
#include <stdint.h>
typedef uint64_t u64;
#define MAX_HA_ENV_LEN 1

struct rv_monitor {
	const char *name;
	const char *description;
	int (*enable)(void);
	void (*disable)(void);
	void (*reset)(void);
	int enabled;
};

int rv_register_monitor(struct rv_monitor *monitor, struct rv_monitor *parent);
int rv_unregister_monitor(struct rv_monitor *monitor);
#endif
