/*
 * The benchmark's workload: open and close one file as fast as possible for a given time,
 * pinned to one CPU, and print how many open() calls it made and how long it ran.
 *
 *   storm <file> <milliseconds> <cpu|-1>    prints "<opens> <elapsed ns>"
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: storm <file> <milliseconds> <cpu|-1>\n");
		return 2;
	}
	const char *file = argv[1];
	long long duration = atoll(argv[2]) * 1000000LL;
	int cpu = atoi(argv[3]);
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			perror("sched_setaffinity");
			return 1;
		}
	}
	long long opens = 0, start = now_ns(), end = start + duration, t = start;
	while (t < end) {
		for (int i = 0; i < 1024; i++) {
			int fd = open(file, O_RDONLY);
			if (fd < 0) {
				perror(file);
				return 1;
			}
			close(fd);
		}
		opens += 1024;
		t = now_ns();
	}
	printf("%lld %lld\n", opens, t - start);
	return 0;
}
