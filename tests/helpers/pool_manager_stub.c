/* pool_manager_stub: what manages a memory pool, reduced to answering sentry's kernel notices, for
 * the lab tests of the whole chain (kernel -> sentry_msg_monitor -> sentryd -> this -> sentryd ->
 * sentry_msg_monitor -> kernel). Built against <register_xalarm.h> only, as a pool manager would
 * be.
 *
 *   pool_manager_stub [--reserve-mb N] [--flag FILE] [--no-answer]
 *
 * Subscribes to 1003 (power-off), 1005 (OOM) and 1009 (kernel reboot) and answers each with
 * 1004 "MSGID_0", 1006 "MSGID_PAGES" and 1010 "MSGID_{cna:C,eid:E}_0". On an OOM notice it first
 * gives back its reserve (N MiB mapped, touched and locked at start) and answers with the pages it
 * freed; a second OOM notice frees nothing and answers 0. Its memory is locked (mlockall) so that
 * it runs while the node is out of memory. --flag: once an OOM notice is answered, its msgid is
 * written into the first 8 bytes of FILE (shared mapping: a memory hog polls it). Prints "ready"
 * once subscribed, then one line per notice: "answered ID MSGID RES" (or "seen ID MSGID" with
 * --no-answer). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "register_xalarm.h"

static void *reserve;
static size_t reserve_bytes;
static uint64_t *flag; /* --flag FILE, mapped shared */

static int map_flag(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0)
        return -errno;
    if (ftruncate(fd, 4096) < 0) {
        close(fd);
        return -errno;
    }
    flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (flag == MAP_FAILED) {
        flag = NULL;
        return -errno;
    }
    return 0;
}

static int reserve_memory(size_t mb)
{
    reserve_bytes = mb << 20;
    if (!reserve_bytes)
        return 0;
    reserve = mmap(NULL, reserve_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reserve == MAP_FAILED) {
        reserve = NULL;
        return -errno;
    }
    memset(reserve, 0x5a, reserve_bytes); /* locked (MCL_FUTURE) and present */
    return 0;
}

/* Pages given back to the system. */
static unsigned long release_reserve(void)
{
    unsigned long pages = reserve_bytes / (unsigned long) sysconf(_SC_PAGESIZE);

    if (!reserve)
        return 0;
    if (munmap(reserve, reserve_bytes) < 0)
        return 0;
    reserve = NULL;
    return pages;
}

/* The answer's text for notice id with text in; 0 or -EBADMSG. */
static int answer_for(unsigned id, const char *in, char *out, size_t size, unsigned short *ret_id,
                      uint64_t *ret_msgid, unsigned long *ret_res)
{
    char *end;
    unsigned long long msgid = strtoull(in, &end, 10);
    unsigned long res = 0;
    int n;

    if (end == in || (*end && *end != '_'))
        return -EBADMSG;
    switch (id) {
    case 1003:
        *ret_id = 1004;
        n = snprintf(out, size, "%llu_0", msgid);
        break;
    case 1005:
        *ret_id = 1006;
        res = release_reserve();
        n = snprintf(out, size, "%llu_%lu", msgid, res);
        break;
    case 1009: {
        /* the notice's {cna:C,eid:E} comes back as it was sent */
        const char *brace = strchr(in, '{'), *close = brace ? strchr(brace, '}') : NULL;
        if (!brace || !close)
            return -EBADMSG;
        *ret_id = 1010;
        n = snprintf(out, size, "%llu_%.*s_0", msgid, (int) (close - brace + 1), brace);
        break;
    }
    default:
        return -EBADMSG;
    }
    if (n < 0 || (size_t) n >= size)
        return -EBADMSG;
    *ret_msgid = msgid;
    *ret_res = res;
    return 0;
}

int main(int argc, char **argv)
{
    struct alarm_subscription_info filter = {.id_list = {1003, 1005, 1009}, .len = 3};
    struct alarm_register *h = NULL;
    const char *flag_path = NULL;
    bool answer = true;
    size_t mb = 0;
    int r;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-answer"))
            answer = false;
        else if (!strcmp(argv[i], "--reserve-mb") && i + 1 < argc)
            mb = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--flag") && i + 1 < argc)
            flag_path = argv[++i];
        else {
            fprintf(stderr,
                    "usage: pool_manager_stub [--reserve-mb N] [--flag FILE] [--no-answer]\n");
            return 2;
        }
    }
#ifndef __SANITIZE_ADDRESS__ /* ASan's shadow memory cannot be locked */
    if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        fprintf(stderr, "pool_manager_stub: mlockall: %s (going on)\n", strerror(errno));
#endif
    if (flag_path && (r = map_flag(flag_path)) < 0) {
        fprintf(stderr, "pool_manager_stub: %s: %s\n", flag_path, strerror(-r));
        return 1;
    }
    r = reserve_memory(mb);
    if (r < 0) {
        fprintf(stderr, "pool_manager_stub: cannot reserve %zu MiB: %s\n", mb, strerror(-r));
        return 1;
    }
    r = xalarm_register_event(&h, filter);
    if (r < 0) {
        fprintf(stderr, "pool_manager_stub: xalarm_register_event: %s\n", strerror(-r));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct alarm_msg msg;
        char text[256];
        unsigned short aid;
        uint64_t msgid;
        unsigned long res;

        r = xalarm_get_event(&msg, h);
        if (r < 0) {
            fprintf(stderr, "pool_manager_stub: xalarm_get_event: %s\n", strerror(-r));
            break;
        }
        msg.pucParas[sizeof(msg.pucParas) - 1] = 0;
        if (!answer) {
            printf("seen %u %s\n", msg.usAlarmId, msg.pucParas);
            fflush(stdout);
            continue;
        }
        if (answer_for(msg.usAlarmId, msg.pucParas, text, sizeof(text), &aid, &msgid, &res) < 0) {
            fprintf(stderr, "pool_manager_stub: cannot answer %u \"%s\"\n", msg.usAlarmId,
                    msg.pucParas);
            continue;
        }
        r = xalarm_report_event(aid, text, strlen(text));
        if (r < 0)
            fprintf(stderr, "pool_manager_stub: xalarm_report_event %u: %s\n", aid, strerror(-r));
        else
            printf("answered %u %" PRIu64 " %lu\n", aid, msgid, res);
        if (r >= 0 && aid == 1006 && flag)
            __atomic_store_n(flag, msgid ? msgid : 1, __ATOMIC_RELEASE);
        fflush(stdout);
    }
    xalarm_unregister_event(&h);
    return 1;
}
