/* test_disk_discovery: the whole disks udev lists here obey the rules (no partitions, no empty
 * devices, the type from the name), and, as root, a loop device that gets a backing file is
 * reported added and, when it loses it, removed, through the monitor fd. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "disk_discovery.h"
#include "log.h"

static unsigned long long sysfs_number(const char *name, const char *attr)
{
    char path[256];
    unsigned long long v = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/sys/block/%s/%s", name, attr);
    f = fopen(path, "r");
    if (!f)
        return 0;
    if (fscanf(f, "%llu", &v) != 1)
        v = 0;
    fclose(f);
    return v;
}

static void test_enumerate_rules(void **state)
{
    struct disk_discovery *dd = NULL;
    struct disk_info *l = NULL;
    size_t n = 0;

    assert_int_equal(disk_discovery_new(&dd), 0);
    assert_int_equal(disk_discovery_enumerate(dd, &l, &n), 0);
    for (size_t i = 0; i < n; i++) {
        char path[256];
        struct stat st;
        struct disk_info again;

        assert_true(disk_name_is_valid(l[i].name));
        /* a whole disk: /sys/block/<name> exists (partitions are not there) */
        snprintf(path, sizeof(path), "/sys/block/%s", l[i].name);
        assert_int_equal(stat(path, &st), 0);
        assert_true(sysfs_number(l[i].name, "size") > 0);
        assert_int_equal(l[i].rotational, sysfs_number(l[i].name, "queue/rotational") == 1);
        assert_int_equal(l[i].type, disk_type_classify(l[i].name, l[i].rotational));
        assert_true(major(l[i].devnum) > 0);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(l[i].devnum, l[j].devnum);
            assert_string_not_equal(l[i].name, l[j].name);
        }
        assert_int_equal(disk_discovery_find(dd, l[i].name, &again), 0);
        assert_memory_equal(&again, &l[i], sizeof(again));
    }
    /* every loop device without a backing file is left out */
    for (int k = 0; k < 64; k++) {
        char name[16];
        struct disk_info d;

        snprintf(name, sizeof(name), "loop%d", k);
        if (sysfs_number(name, "size") == 0) {
            int r = disk_discovery_find(dd, name, &d);
            assert_int_equal(r, -ENODEV);
            for (size_t i = 0; i < n; i++)
                assert_string_not_equal(l[i].name, name);
        }
    }
    assert_int_equal(disk_discovery_find(dd, "no_such_disk0", &(struct disk_info){0}), -ENODEV);
    assert_int_equal(disk_discovery_find(dd, "../sda", &(struct disk_info){0}), -EINVAL);
    assert_string_equal(disk_event_to_string(DISK_EVENT_ADDED), "added");
    assert_string_equal(disk_event_to_string(DISK_EVENT_REMOVED), "removed");
    assert_string_equal(disk_event_to_string(DISK_EVENT_CHANGED), "changed");
    assert_null(disk_event_to_string(_DISK_EVENT_MAX));
    free(l);
    disk_discovery_free(dd);
}

struct seen {
    char name[DISK_NAME_MAX];
    int added, removed, changed;
};

static void on_event(enum disk_event ev, const struct disk_info *d, void *userdata)
{
    struct seen *s = userdata;

    if (!streq(d->name, s->name))
        return;
    if (ev == DISK_EVENT_ADDED) {
        s->added++;
        assert_int_equal(d->type, DISK_VIRTUAL);
    } else if (ev == DISK_EVENT_REMOVED)
        s->removed++;
    else
        s->changed++;
}

/* Processes events until cond holds or 10 s pass. */
static bool wait_for(struct disk_discovery *dd, int fd, struct seen *s, int *counter)
{
    struct timespec t0, t;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (*counter == 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};

        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            return false;
        if (poll(&p, 1, 500) > 0)
            assert_true(disk_discovery_process(dd, on_event, s) >= 0);
    }
    return true;
}

static void test_loop_hotplug(void **state)
{
    char file[] = "/tmp/test_disk_discovery.XXXXXX", dev[32];
    struct disk_discovery *dd = NULL;
    struct disk_info *l = NULL;
    struct seen seen = {};
    int ctl, lfd, ffd, fd, nr;
    size_t n;

    if (geteuid() != 0 || access("/dev/loop-control", W_OK) < 0) {
        print_message("skipped: loop devices need root and /dev/loop-control\n");
        skip();
    }

    assert_int_equal(disk_discovery_new(&dd), 0);
    fd = disk_discovery_monitor_fd(dd);
    assert_true(fd >= 0);
    assert_int_equal(disk_discovery_monitor_fd(dd), fd);
    assert_int_equal(disk_discovery_enumerate(dd, &l, &n), 0);
    free(l);

    ffd = mkstemp(file);
    assert_true(ffd >= 0);
    assert_int_equal(ftruncate(ffd, 8 << 20), 0);
    ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    assert_true(ctl >= 0);
    nr = ioctl(ctl, LOOP_CTL_GET_FREE);
    assert_true(nr >= 0);
    snprintf(dev, sizeof(dev), "/dev/loop%d", nr);
    snprintf(seen.name, sizeof(seen.name), "loop%d", nr);
    lfd = open(dev, O_RDWR | O_CLOEXEC);
    assert_true(lfd >= 0);

    assert_int_equal(ioctl(lfd, LOOP_SET_FD, ffd), 0);
    bool added = wait_for(dd, fd, &seen, &seen.added);
    /* the loop device lets go of its file when its last opener closes it */
    assert_int_equal(ioctl(lfd, LOOP_CLR_FD, 0), 0);
    close(lfd);
    bool removed = added && wait_for(dd, fd, &seen, &seen.removed);

    close(ctl);
    close(ffd);
    unlink(file);
    disk_discovery_free(dd);
    assert_true(added);
    assert_true(removed);
    assert_int_equal(seen.added, 1);
    assert_int_equal(seen.removed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumerate_rules),
        cmocka_unit_test(test_loop_hotplug),
    };
    log_setup("test_disk_discovery", LOG_TARGET_STDERR, LOG_INFO);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
