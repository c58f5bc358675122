/* The pod sandbox's process for tests/clients/cri.bats, built at test time with gcc -static:
 * like Kubernetes' pause, it holds the pod's namespaces and only waits for signals. SIGINT and
 * SIGTERM end it (exit 0), SIGCHLD reaps children (it is PID 1 of a shared pid namespace). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) {
  (void)sig;
  _exit(0);
}

static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("ocirt-test-pause");
    return 0;
  }
  if (getpid() != 1)
    fprintf(stderr, "pause: not PID 1 of its namespace\n");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = stop;
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0)
    return 1;
  sa.sa_handler = reap;
  sa.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &sa, NULL) < 0)
    return 2;
  for (;;)
    pause();
}
