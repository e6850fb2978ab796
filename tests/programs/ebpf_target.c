/*
 * Target program for the live eBPF tests (tests/test_ebpf_live.py).
 *
 * The window markers start with a `nop`: a uprobe on a bare `ret` costs
 * ~15 us per hit in this VM, on a `nop` ~0.5 us.
 *
 *   ebpf_target busy US        window: busy US
 *   ebpf_target sleep US       window: busy 100 us, sleep US
 *   ebpf_target yield US       window: sched_yield() until US have passed
 *   ebpf_target two A B        window 1: busy A; then window 2: busy B
 *   ebpf_target exit US        window: busy US, then the process exits inside it
 *   ebpf_target threads N US   N threads, each window: sleep US
 *   ebpf_target jobs N         N windows: busy 300 us, sleep 4 ms (odd) or
 *                              300 us (even), busy 200 us
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MARKER(name) \
	__attribute__((noinline)) void name(void) { __asm__ volatile("nop" ::: "memory"); }

MARKER(nop_start)
MARKER(nop_stop)
MARKER(nop_start_b)
MARKER(nop_stop_b)

static long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void busy(long us)
{
	long end = now_ns() + us * 1000;

	while (now_ns() < end)
		;
}

static long sleep_us;

static void *thread_window(void *arg)
{
	(void)arg;
	nop_start();
	usleep(sleep_us);
	nop_stop();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s busy|sleep|yield|two|exit|threads ARGS\n", argv[0]);
		return 2;
	}
	if (!strcmp(argv[1], "busy")) {
		nop_start();
		busy(atol(argv[2]));
		nop_stop();
	} else if (!strcmp(argv[1], "sleep")) {
		nop_start();
		busy(100);
		usleep(atol(argv[2]));
		nop_stop();
	} else if (!strcmp(argv[1], "yield")) {
		long end;

		nop_start();
		end = now_ns() + atol(argv[2]) * 1000;
		while (now_ns() < end)
			sched_yield();
		nop_stop();
	} else if (!strcmp(argv[1], "two") && argc > 3) {
		nop_start();
		busy(atol(argv[2]));
		nop_stop();
		nop_start_b();
		busy(atol(argv[3]));
		nop_stop_b();
	} else if (!strcmp(argv[1], "exit")) {
		nop_start();
		busy(atol(argv[2]));
		_exit(0);
	} else if (!strcmp(argv[1], "jobs")) {
		for (int i = 0; i < atoi(argv[2]); i++) {
			nop_start();
			busy(300);
			usleep(i % 2 ? 4000 : 300);
			busy(200);
			nop_stop();
		}
	} else if (!strcmp(argv[1], "threads") && argc > 3) {
		int n = atoi(argv[2]);
		pthread_t t[64];

		sleep_us = atol(argv[3]);
		if (n > 64)
			n = 64;
		for (int i = 0; i < n; i++)
			pthread_create(&t[i], NULL, thread_window, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
	} else {
		return 2;
	}
	return 0;
}
