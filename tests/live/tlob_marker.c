/*
 * A tlob workload for tests/test_replay_live.py: three invocations between
 * two marker functions that uprobes watch.  Each marker begins with a nop, so
 * the uprobe on its first instruction is a cheap, emulated one.
 *
 *   job 0: 0.3 ms on the CPU                 -> within its 5 ms budget, running
 *   job 1: sleeps 8 ms                       -> over budget, mostly sleeping
 *   job 2: preempted by an 8 ms SCHED_FIFO hog on its CPU -> over, mostly waiting
 *
 * Run it under `chrt -f 1` (busy sections then keep the CPU against co-tenant
 * load); the hog raises itself to SCHED_FIFO 2, so it preempts job 2 at once.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) void tlob_start(int id, long budget_ns)
{
	__asm__ volatile("nop" ::: "memory");
}

__attribute__((noinline)) void tlob_stop(int id)
{
	__asm__ volatile("nop" ::: "memory");
}

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void busy(long ns)
{
	long end = now_ns() + ns;

	while (now_ns() < end)
		;
}

int main(void)
{
	struct sched_param hog_prio = { .sched_priority = 2 };
	long budget = 5000000;
	cpu_set_t cpu0;
	int go[2];
	pid_t hog;
	char c;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0) || pipe(go))
		return 2;
	hog = fork();
	if (hog < 0)
		return 2;
	if (hog == 0) {
		if (sched_setscheduler(0, SCHED_FIFO, &hog_prio))
			_exit(2);
		while (read(go[0], &c, 1) == 1 && c == 'g')
			busy(8000000);
		_exit(0);
	}
	usleep(20000);	/* the hog is blocked on its pipe by now */

	tlob_start(0, budget);
	busy(300000);
	tlob_stop(0);

	tlob_start(1, budget);
	busy(100000);
	usleep(8000);
	busy(100000);
	tlob_stop(1);

	tlob_start(2, budget);
	busy(100000);
	if (write(go[1], "g", 1) != 1)
		return 2;
	busy(100000);
	tlob_stop(2);

	if (write(go[1], "q", 1) != 1)
		return 2;
	waitpid(hog, NULL, 0);
	return 0;
}
