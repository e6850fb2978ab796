// SPDX-License-Identifier: GPL-2.0
/*
 * Print the tables of a generated LTL <m>.h for every value of its atoms:
 *   start ATOMS STATES            what ltl_start() sets
 *   next ATOMS STATE STATES       what ltl_possible_next_states() sets
 * (all numbers are bitmasks, in decimal).  tests/test_gen_kernel_c_ltl.py
 * compares them with the Python reference monitor.
 */
#include <stdio.h>
#include <string.h>
#include "model.h"

int main(void)
{
	unsigned long all = 1UL << LTL_NUM_ATOM;

	for (unsigned long atoms = 0; atoms < all; atoms++) {
		struct ltl_monitor mon;

		memset(&mon, 0, sizeof(mon));
		mon.atoms[0] = atoms;
		ltl_start(NULL, &mon);
		printf("start %lu %lu\n", atoms, mon.states[0]);
		for (int s = 0; s < (int)RV_NUM_BA_STATES; s++) {
			unsigned long next[1] = {0};

			ltl_possible_next_states(&mon, s, next);
			printf("next %lu %d %lu\n", atoms, s, next[0]);
		}
	}
	return 0;
}
