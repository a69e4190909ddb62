/* smh_tool: a small reader of /dev/sentry_msg_helper (kmod/, docs/kmod.md) for the lab tests
 * (tests/vm/test_kmod_lab.py). The real reader is plugins/sentry_msg_monitor.
 *
 *   smh_tool [-d DEV] version        SMH_VERSION_CHECK
 *   smh_tool [-d DEV] read [-n COUNT] [-t MS] [-a RES | -N] [-D MS] [-r MB] [-F FILE] [-R FILE]
 *       -n COUNT  notices to read (default 1; 0: until killed)
 *       -t MS     exit 3 when no notice comes within MS of the start or the last one
 *       -a RES    answer each notice with this res (default 0); -N: do not answer
 *       -D MS     wait MS before answering (a late answer)
 *       -r MB     hold a reserve of MB MiB; an OOM notice is answered by freeing it, with res =
 *                 its pages (once; later OOM notices get -a's res)
 *       -F FILE   a 4 KiB file mapped shared and locked: each answer stores its msgid in its
 *                 first 8 bytes (others may watch it; the store needs no memory)
 *       -R FILE   create FILE once the device is open and the reserve held
 *   smh_tool [-d DEV] ack MSGID RES  answer one notice
 *
 * Between reading a notice and answering it, it neither allocates nor prints, and all of its
 * memory is locked (mlockall): under an OOM the kernel waits for it, holding the OOM lock. It
 * prints one line per event, key=value, after the answer:
 *   version major=1 minor=6
 *   ready pid=P
 *   notice msgid=I type=T kind=NAME timeout_ms=M age_ms=A read_ns=N [details]
 *   answer msgid=I res=R result=ok|ETIME|ENOENT|none|... answer_ms=A
 * age_ms: from the kernel queueing the notice to this read; read_ns: that read's CLOCK_MONOTONIC
 * (the clock of the record's start_send_time); answer_ms: from the read to the answer's return.
 * Exit status: 0; 1 an error; 2 usage; 3 no notice in time. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "sentry_msg_helper.h"

static const char *const kind_names[] = {
    "POWER_OFF",         "OOM",       "PANIC",         "KERNEL_REBOOT", "UB_MEM_ERR", "PANIC_ACK",
    "KERNEL_REBOOT_ACK", "HEARTBEAT", "HEARTBEAT_ACK", "LINK_EVENT",    "UNKNOWN",
};

static const char *kind_name(int type)
{
    return type >= 0 && type <= SMH_MESSAGE_UNKNOWN ? kind_names[type] : "?";
}

static const char *errno_name(int e)
{
    switch (e) {
    case 0:
        return "ok";
    case ETIME:
        return "ETIME";
    case ENOENT:
        return "ENOENT";
    case EPERM:
        return "EPERM";
    case EINVAL:
        return "EINVAL";
    case EFAULT:
        return "EFAULT";
    case ENOTTY:
        return "ENOTTY";
    default:
        return strerror(e);
    }
}

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Answers msgid with res; 0 or the errno. */
static int answer(int fd, unsigned long long msgid, unsigned long res)
{
    struct sentry_msg_helper_msg msg;

    memset(&msg, 0, sizeof(msg));
    msg.msgid = msgid;
    msg.res = res;
    return ioctl(fd, SMH_MSG_ACK, &msg) < 0 ? errno : 0;
}

static void print_notice(const struct sentry_msg_helper_msg *m, long long read_ns)
{
    printf("notice msgid=%llu type=%d kind=%s timeout_ms=%llu age_ms=%.1f read_ns=%lld",
           (unsigned long long) m->msgid, (int) m->type, kind_name(m->type),
           (unsigned long long) m->timeout_time, (read_ns - (long long) m->start_send_time) / 1e6,
           read_ns);
    if (m->type == SMH_MESSAGE_OOM) {
        printf(" nr_nid=%d nid=", m->helper_msg_info.oom_info.nr_nid);
        for (int i = 0; i < m->helper_msg_info.oom_info.nr_nid && i < SMH_NUMA_NODES_MAX; i++)
            printf("%s%d", i ? "," : "", m->helper_msg_info.oom_info.nid[i]);
        printf(" sync=%d oom_timeout=%d reason=%d", m->helper_msg_info.oom_info.sync,
               m->helper_msg_info.oom_info.timeout, m->helper_msg_info.oom_info.reason);
    } else if (m->type == SMH_MESSAGE_KERNEL_REBOOT || m->type == SMH_MESSAGE_PANIC) {
        printf(" cna=%u eid=%.*s", m->helper_msg_info.remote_info.cna, SMH_EID_LEN - 1,
               m->helper_msg_info.remote_info.eid[0] ? m->helper_msg_info.remote_info.eid : "-");
    }
    printf("\n");
}

static int cmd_read(int fd, int argc, char **argv)
{
    long count = 1, timeout_ms = -1, delay_ms = 0, reserve_mb = 0;
    unsigned long res = 0;
    const char *ready = NULL, *flag_path = NULL;
    volatile unsigned long long *flag = NULL;
    int no_answer = 0, opt;
    size_t reserve_len = 0;
    void *reserve = NULL;

    while ((opt = getopt(argc, argv, "n:t:a:ND:r:F:R:")) != -1) {
        switch (opt) {
        case 'n':
            count = strtol(optarg, NULL, 10);
            break;
        case 't':
            timeout_ms = strtol(optarg, NULL, 10);
            break;
        case 'a':
            res = strtoul(optarg, NULL, 10);
            break;
        case 'N':
            no_answer = 1;
            break;
        case 'D':
            delay_ms = strtol(optarg, NULL, 10);
            break;
        case 'r':
            reserve_mb = strtol(optarg, NULL, 10);
            break;
        case 'F':
            flag_path = optarg;
            break;
        case 'R':
            ready = optarg;
            break;
        default:
            return 2;
        }
    }
    if (timeout_ms >= 0) /* poll() says when; a notice expiring in between gives EAGAIN */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        fprintf(stderr, "smh_tool: mlockall: %s (going on)\n", strerror(errno));
    if (reserve_mb > 0) {
        reserve_len = (size_t) reserve_mb << 20;
        reserve = mmap(NULL, reserve_len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (reserve == MAP_FAILED) {
            fprintf(stderr, "smh_tool: reserve of %ld MiB: %s\n", reserve_mb, strerror(errno));
            return 1;
        }
        memset(reserve, 0x5a, reserve_len);
    }
    if (flag_path) {
        int f = open(flag_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        void *p = MAP_FAILED;

        if (f >= 0 && ftruncate(f, 4096) == 0)
            p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "smh_tool: %s: %s\n", flag_path, strerror(errno));
            return 1;
        }
        if (f >= 0)
            close(f);
        flag = p;
        *flag = 0;
    }
    printf("ready pid=%d\n", (int) getpid());
    fflush(stdout);
    if (ready) {
        int r = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (r >= 0)
            close(r);
    }

    for (long n = 0; count == 0 || n < count; n++) {
        struct sentry_msg_helper_msg msg;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        long long read_ns, answered_ns = 0;
        unsigned long this_res = res;
        int result = -1;
        ssize_t got;

        if (timeout_ms >= 0) {
            int p = poll(&pfd, 1, (int) timeout_ms);
            if (p == 0) {
                printf("timeout after_ms=%ld\n", timeout_ms);
                return 3;
            }
            if (p < 0) {
                fprintf(stderr, "smh_tool: poll: %s\n", strerror(errno));
                return 1;
            }
        }
        got = read(fd, &msg, sizeof(msg));
        read_ns = now_ns();
        if (got < 0 && errno == EAGAIN) {
            n--; /* it expired between poll and read */
            continue;
        }
        if (got != (ssize_t) sizeof(msg)) {
            fprintf(stderr, "smh_tool: read: %s\n", got < 0 ? strerror(errno) : "short read");
            return 1;
        }
        if (msg.type == SMH_MESSAGE_OOM && reserve) {
            munmap(reserve, reserve_len);
            reserve = NULL;
            this_res = reserve_len / (size_t) sysconf(_SC_PAGESIZE);
        }
        if (delay_ms > 0)
            sleep_ms(delay_ms);
        if (!no_answer) {
            result = answer(fd, msg.msgid, this_res);
            answered_ns = now_ns();
            if (flag)
                *flag = msg.msgid;
        }
        print_notice(&msg, read_ns);
        if (no_answer)
            printf("answer msgid=%llu result=none\n", (unsigned long long) msg.msgid);
        else
            printf("answer msgid=%llu res=%lu result=%s answer_ms=%.1f\n",
                   (unsigned long long) msg.msgid, this_res, errno_name(result),
                   (answered_ns - read_ns) / 1e6);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dev = "/dev/" SMH_DEVICE_NAME;
    int fd;

    if (argc > 2 && strcmp(argv[1], "-d") == 0) {
        dev = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: smh_tool [-d DEV] version | read [-n COUNT] [-t MS] [-a RES | -N] "
                        "[-D MS] [-r MB] [-F FILE] [-R FILE] | ack MSGID RES\n");
        return 2;
    }
    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "smh_tool: %s: %s\n", dev, strerror(errno));
        return 1;
    }
    if (strcmp(argv[1], "version") == 0) {
        struct smh_version_info v;

        if (ioctl(fd, SMH_VERSION_CHECK, &v) < 0) {
            fprintf(stderr, "smh_tool: SMH_VERSION_CHECK: %s\n", strerror(errno));
            return 1;
        }
        printf("version major=%u minor=%u\n", v.major, v.minor);
        return 0;
    }
    if (strcmp(argv[1], "read") == 0)
        return cmd_read(fd, argc - 1, argv + 1);
    if (strcmp(argv[1], "ack") == 0 && argc == 4) {
        unsigned long long msgid = strtoull(argv[2], NULL, 10);
        unsigned long res = strtoul(argv[3], NULL, 10);
        int r = answer(fd, msgid, res);

        printf("answer msgid=%llu res=%lu result=%s\n", msgid, res, errno_name(r));
        return r == 0 ? 0 : 1;
    }
    fprintf(stderr, "smh_tool: unknown command %s\n", argv[1]);
    return 2;
}
