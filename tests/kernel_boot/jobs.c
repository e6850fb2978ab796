// SPDX-License-Identifier: GPL-2.0
/*
 * The workload of the boot test: N jobs between two marker functions that
 * the generated tlob monitor binds uprobes to.  Job i busy-loops 0.3 ms, then
 * sleeps 3 ms when i is odd, busy-loops 3 ms when i % 4 == 2 and sleeps
 * 0.5 ms otherwise, then busy-loops 0.2 ms: with a 2 ms budget the odd jobs
 * overrun it mostly asleep, those with i % 4 == 2 running, the others stay
 * within it.  The program's own measure of each job is the truth the test
 * holds the monitors to: it prints
 *
 *   job I PID OUTER_START INNER_START INNER_STOP OUTER_STOP
 *
 * with CLOCK_MONOTONIC, the clock the kernel monitor reads (ktime_get_ns):
 * the outer span from before the start marker's call to after the stop
 * marker's return, the inner one from after the first returns to before the
 * second is called.  The monitor's window (uprobe to uprobe) lies between the
 * two, however long the uprobes take: an inner span over budget must be
 * reported, an outer one within it must not.
 *
 *   jobs N [BUDGET_NS]      (static binary, run from the test's initramfs)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* A nop first, so a uprobe on the first instruction is a cheap emulated one. */
__attribute__((noinline)) void tlob_start(int id, long budget_ns)
{
	__asm__ volatile("nop" ::: "memory");
}

__attribute__((noinline)) void tlob_stop(int id)
{
	__asm__ volatile("nop" ::: "memory");
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void busy(long long ns)
{
	long long end = now_ns() + ns;

	while (now_ns() < end)
		;
}

int main(int argc, char **argv)
{
	int jobs = argc > 1 ? atoi(argv[1]) : 20;
	long budget = argc > 2 ? atol(argv[2]) : 2000000;

	for (int i = 0; i < jobs; i++) {
		long long outer_start, inner_start, inner_stop, outer_stop;

		outer_start = now_ns();
		tlob_start(i, budget);
		inner_start = now_ns();
		busy(300000);
		if (i % 2)
			usleep(3000);
		else if (i % 4 == 2)
			busy(3000000);
		else
			usleep(500);
		busy(200000);
		inner_stop = now_ns();
		tlob_stop(i);
		outer_stop = now_ns();
		printf("job %d %d %lld %lld %lld %lld\n", i, (int)getpid(), outer_start,
		       inner_start, inner_stop, outer_stop);
		usleep(1000);
	}
	return 0;
}
