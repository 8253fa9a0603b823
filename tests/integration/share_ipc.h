/* What the programs that share VMM memory between two processes (prog_vmm_share.c and its HIP
 * twin) need besides the GPU: a Unix socket that carries a descriptor (SCM_RIGHTS) and one-byte
 * messages, and files the shell creates to let a paused process go on. Include after check.h. */
#ifndef GREY_TEST_SHARE_IPC_H
#define GREY_TEST_SHARE_IPC_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static void wait_file(const char *sock, const char *suffix)
{
    char path[512];
    snprintf(path, sizeof path, "%s.%s", sock, suffix);
    struct stat st;
    for (int i = 0; i < 600 && stat(path, &st) != 0; i++) /* 60 s at most */
        sleep_ms(100);
}

static void touch(const char *sock, const char *suffix)
{
    char path[512];
    snprintf(path, sizeof path, "%s.%s", sock, suffix);
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
}

static void socket_address(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", path);
}

static void send_fd(int sock, int fd, uint64_t size)
{
    char control[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {.iov_base = &size, .iov_len = sizeof size};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    CHECK(sendmsg(sock, &m, 0) == (ssize_t)sizeof size, "sendmsg of the descriptor");
}

static int recv_fd(int sock, uint64_t *size)
{
    char control[CMSG_SPACE(sizeof(int))] = {0};
    struct iovec iov = {.iov_base = size, .iov_len = sizeof *size};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
    if (recvmsg(sock, &m, 0) != (ssize_t)sizeof *size)
        return -1;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return fd;
}

static void say(int sock, char what) { CHECK(write(sock, &what, 1) == 1, "write '%c'", what); }

static void hear(int sock, char what)
{
    char c = 0;
    CHECK(read(sock, &c, 1) == 1 && c == what, "expected '%c' from the other process, got '%c'", what, c);
}

/* The creator's side: a listening socket at path, and the one connection it accepts; -1 on failure. */
static int accept_one(const char *path)
{
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    socket_address(&a, path);
    unlink(path);
    if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 1) != 0) {
        printf("FAIL: cannot listen on %s\n", path);
        return -1;
    }
    int s = accept(listener, NULL, NULL);
    close(listener);
    return s;
}

/* The importer's side: connected to path, trying for up to 30 s. */
static int connect_to(const char *path)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    socket_address(&a, path);
    for (int tries = 0; connect(s, (struct sockaddr *)&a, sizeof a) != 0 && tries < 300; tries++)
        sleep_ms(100);
    return s;
}

/* Prints what a process sees free of its cap at a step, and checks it is want (else says why). */
static void expect_free(const char *when, uint64_t free_now, uint64_t want, uint64_t cap, const char *otherwise)
{
    printf("%s: free %llu of %llu MiB\n", when, (unsigned long long)(free_now >> 20), (unsigned long long)(cap >> 20));
    CHECK(free_now == want, "%s", otherwise);
}

/* The importer's first step: connected to the creator at path, the descriptor it sent and the
 * size; -1 (said) when none came. *sock is the connection. */
static int receive_from(const char *path, int *sock, uint64_t *size)
{
    *sock = connect_to(path);
    int fd = recv_fd(*sock, size);
    if (fd < 0)
        printf("FAIL: no descriptor from the creator\n");
    return fd;
}

#endif
