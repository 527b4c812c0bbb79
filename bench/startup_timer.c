/* Measures start-up to first accepted connection: forks sottod, then polls connect() on the
 * port every 100 µs until it succeeds; prints the elapsed milliseconds and stops sottod.
 * Usage: startup_timer <sottod> <port>  (environment passed through). Not a test. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int try_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

int main(int argc, char **argv)
{
    double t0, t1;
    pid_t pid;
    int port, status;
    char *end;
    long p;

    if (argc != 3)
        return fprintf(stderr, "usage: %s <sottod> <port>\n", argv[0]), 2;
    p = strtol(argv[2], &end, 10);
    if (end == argv[2] || *end != '\0' || p < 1 || p > 65535)
        return fprintf(stderr, "%s: bad port %s\n", argv[0], argv[2]), 2;
    port = (int)p;
    t0 = now_ms();
    pid = fork();
    if (pid == 0) {
        execl(argv[1], argv[1], (char *)NULL);
        _exit(127);
    }
    while (!try_connect(port)) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return fprintf(stderr, "sottod exited\n"), 1;
        if (now_ms() - t0 > 5000)
            return kill(pid, SIGKILL), fprintf(stderr, "timeout\n"), 1;
        usleep(100);
    }
    t1 = now_ms();
    printf("%.2f\n", t1 - t0);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    return 0;
}
