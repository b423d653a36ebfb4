/*
 * forkstorm WORKERS SECONDS: WORKERS processes each fork a child that
 * _exits at once, reap it and fork the next, as fast as they can, for
 * SECONDS. Prints "workers PID..." when they start, then "children N" (the
 * children forked and reaped, all workers together) when they are done.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: forkstorm WORKERS SECONDS\n");
		return 2;
	}
	int workers = atoi(argv[1]);
	double seconds = atof(argv[2]);
	if (workers < 1 || workers > 256 || seconds <= 0) {
		fprintf(stderr, "forkstorm: WORKERS 1..256, SECONDS > 0\n");
		return 2;
	}
	long *counts = mmap(NULL, sizeof(long) * workers, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	pid_t pids[256];
	printf("workers");
	for (int w = 0; w < workers; w++) {
		pid_t p = fork();
		if (p < 0) {
			perror("fork");
			return 1;
		}
		if (p == 0) {
			struct timespec start, now;
			long n = 0;
			clock_gettime(CLOCK_MONOTONIC, &start);
			for (;;) {
				pid_t c = fork();
				if (c == 0)
					_exit(0);
				if (c > 0 && waitpid(c, NULL, 0) == c)
					n++;
				if ((n & 63) == 0) {
					clock_gettime(CLOCK_MONOTONIC, &now);
					if (now.tv_sec - start.tv_sec + (now.tv_nsec - start.tv_nsec) / 1e9 >= seconds)
						break;
				}
			}
			counts[w] = n;
			_exit(0);
		}
		pids[w] = p;
		printf(" %d", p);
	}
	printf("\n");
	fflush(stdout);
	long total = 0;
	for (int w = 0; w < workers; w++) {
		waitpid(pids[w], NULL, 0);
		total += counts[w];
	}
	printf("children %ld\n", total);
	return 0;
}
