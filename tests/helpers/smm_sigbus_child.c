/* smm_sigbus_child: a process that maps shared memory and says which SIGBUS it got, for the
 * SIGBUS tests of sentry_msg_monitor (tests/integration/test_smm_sigbus.py).
 *
 *   smm_sigbus_child FILE|memfd:PAGES OFFSET LENGTH [HINT]
 *
 * maps LENGTH bytes of FILE from OFFSET shared (memfd:PAGES: a new memfd of that many pages,
 * which other children can open as /proc/<pid>/fd/<fd>), near address HINT if given, writes
 * every page so it is in memory, prints "READY pid=P addr=0xA fd=F", and then one line
 * "SIGBUS code=C value=0xV pid=S" per SIGBUS (si_code, si_value.sival_ptr, si_pid). It exits
 * at the end of its stdin. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* printf is not async-signal-safe: the handler formats by hand. */
static size_t put_str(char *buf, size_t o, const char *s)
{
    while (*s)
        buf[o++] = *s++;
    return o;
}

static size_t put_num(char *buf, size_t o, uint64_t v, unsigned base, bool negative)
{
    char tmp[24];
    size_t n = 0;

    if (negative)
        buf[o++] = '-';
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n)
        buf[o++] = tmp[--n];
    return o;
}

static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
    char buf[128];
    size_t o = 0;
    int saved = errno;

    (void) sig;
    (void) ctx;
    o = put_str(buf, o, "SIGBUS code=");
    o = put_num(buf, o, (uint64_t) (si->si_code < 0 ? -(int64_t) si->si_code : si->si_code), 10,
                si->si_code < 0);
    o = put_str(buf, o, " value=0x");
    o = put_num(buf, o, (uint64_t) (uintptr_t) si->si_value.sival_ptr, 16, false);
    o = put_str(buf, o, " pid=");
    o = put_num(buf, o, (uint64_t) si->si_pid, 10, false);
    buf[o++] = '\n';
    (void) !write(STDOUT_FILENO, buf, o);
    errno = saved;
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO};
    long page = sysconf(_SC_PAGESIZE);
    void *hint = NULL;
    unsigned long pages;
    off_t offset;
    size_t length;
    char *p, c;
    int fd;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s FILE|memfd:PAGES OFFSET LENGTH [HINT]\n", argv[0]);
        return 2;
    }
    offset = (off_t) strtoull(argv[2], NULL, 0);
    length = (size_t) strtoull(argv[3], NULL, 0);
    if (argc == 5)
        hint = (void *) (uintptr_t) strtoull(argv[4], NULL, 0);
    if (sscanf(argv[1], "memfd:%lu", &pages) == 1) {
        fd = memfd_create("smm_sigbus_child", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t) (pages * (unsigned long) page)) < 0) {
            perror("memfd");
            return 1;
        }
    } else {
        fd = open(argv[1], O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            perror(argv[1]);
            return 1;
        }
    }
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) < 0) {
        perror("sigaction");
        return 1;
    }
    p = mmap(hint, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (size_t i = 0; i < length; i += (size_t) page)
        p[i] = (char) (1 + i / (size_t) page);
    printf("READY pid=%d addr=%p fd=%d\n", (int) getpid(), (void *) p, fd);
    fflush(stdout);
    /* Until the test closes stdin; a signal interrupts the read, which is read again. */
    for (;;) {
        ssize_t n = read(STDIN_FILENO, &c, 1);

        if (n == 0 || (n < 0 && errno != EINTR))
            return 0;
    }
}
