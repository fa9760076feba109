/*
 * it_notify_sink.c - plays systemd's side of the sd_notify protocol for the integration tests:
 * binds a unix datagram socket at argv[1] (what $NOTIFY_SOCKET names) and prints every datagram
 * received as one line on stdout, its newlines shown as '|', until SIGTERM.
 *   it_notify_sink /tmp/x/notify.sock > notify.log
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char buf[4096];
    int fd;

    if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "usage: it_notify_sink SOCKET_PATH\n");
        return 2;
    }
    memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("it_notify_sink");
        return 1;
    }
    signal(SIGTERM, SIG_DFL);
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
            continue;
        buf[n] = '\0';
        for (char *p = buf; *p; p++) {
            if (*p == '\n')
                *p = '|';
        }
        printf("%s\n", buf);
        fflush(stdout);
    }
}
