/*
 * Spawns idle tasks for the benchmarks: PROCESSES processes with THREADS
 * threads each, all blocked forever. Prints "ready" once every task
 * exists, then waits until its stdin closes (or it is killed) and takes
 * every task with it: children die with their parent (PR_SET_PDEATHSIG),
 * and the whole process group is killed on the way out.
 *
 *   spawn_idle PROCESSES [THREADS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

static void *park(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* One idle process: its extra threads, then one byte to say it is ready. */
static void child(int threads, int ready_fd)
{
	pthread_attr_t attr;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1) /* the parent died before prctl */
		_exit(0);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int t = 1; t < threads; t++) {
		pthread_t id;

		if (pthread_create(&id, &attr, park, NULL) != 0) {
			perror("pthread_create");
			_exit(1);
		}
	}
	if (write(ready_fd, "x", 1) != 1)
		_exit(1);
	close(ready_fd);
	park(NULL);
}

int main(int argc, char **argv)
{
	long processes = argc > 1 ? atol(argv[1]) : 1000;
	int threads = argc > 2 ? atoi(argv[2]) : 1;
	int ready[2];
	char byte;

	if (processes < 0 || threads < 1) {
		fprintf(stderr, "usage: spawn_idle PROCESSES [THREADS]\n");
		return 2;
	}
	setpgid(0, 0);
	if (pipe(ready) != 0) {
		perror("pipe");
		return 1;
	}
	for (long i = 0; i < processes; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			kill(0, SIGKILL);
			return 1;
		}
		if (pid == 0) {
			close(ready[0]);
			child(threads, ready[1]);
		}
	}
	close(ready[1]);
	for (long i = 0; i < processes; i++) {
		if (read(ready[0], &byte, 1) != 1) {
			fprintf(stderr, "a child died before it was ready\n");
			kill(0, SIGKILL);
			return 1;
		}
	}
	printf("ready\n");
	fflush(stdout);
	while (read(0, &byte, 1) > 0)
		;
	kill(0, SIGKILL);
	return 0;
}
