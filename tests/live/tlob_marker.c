/*
 * A tlob workload for tests/test_replay_live.py: three invocations between
 * two marker functions that uprobes watch.  Each marker begins with a nop, so
 * the uprobe on its first instruction is a cheap, emulated one.
 *
 *   job 0: 0.3 ms on the CPU                 -> within its 5 ms budget, running
 *   job 1: sleeps 8 ms                       -> over budget, mostly sleeping
 *   job 2: preempted by an 8 ms SCHED_FIFO hog on its CPU -> over, mostly waiting
 *   job 3: yields to an 8 ms hog of its own priority      -> over, mostly waiting
 *
 * Run it under `chrt -f 1` (busy sections then keep the CPU against co-tenant
 * load).  Both hogs share the CPU of the jobs; the first raises itself to
 * SCHED_FIFO 2, so it preempts job 2 as soon as it is woken; the second keeps
 * the inherited SCHED_FIFO 1, so it runs only once job 3 calls sched_yield().
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

/* A child that burns 8 ms of CPU each time it reads 'g' from its pipe. */
static pid_t hog(int fd, int priority)
{
	struct sched_param prio = { .sched_priority = priority };
	pid_t pid = fork();
	char c;

	if (pid != 0)
		return pid;
	if (priority && sched_setscheduler(0, SCHED_FIFO, &prio))
		_exit(2);
	while (read(fd, &c, 1) == 1 && c == 'g')
		busy(8000000);
	_exit(0);
}

int main(void)
{
	long budget = 5000000;
	int higher[2], equal[2];
	pid_t hogs[2];
	cpu_set_t cpu0;

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0) || pipe(higher) || pipe(equal))
		return 2;
	hogs[0] = hog(higher[0], 2);
	hogs[1] = hog(equal[0], 0);
	if (hogs[0] < 0 || hogs[1] < 0)
		return 2;
	usleep(20000);	/* the hogs are blocked on their pipes by now */

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
	if (write(higher[1], "g", 1) != 1)
		return 2;
	busy(100000);
	tlob_stop(2);

	tlob_start(3, budget);
	busy(100000);
	if (write(equal[1], "g", 1) != 1)
		return 2;
	sched_yield();
	busy(100000);
	tlob_stop(3);

	if (write(higher[1], "q", 1) != 1 || write(equal[1], "q", 1) != 1)
		return 2;
	waitpid(hogs[0], NULL, 0);
	waitpid(hogs[1], NULL, 0);
	return 0;
}
