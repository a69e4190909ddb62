/* disk_discovery.c: whole disks from libudev, and hotplug through a udev monitor (see
 * disk_discovery.h).
 *
 * Identity (model, serial, WWN) comes from udevd's database when udevd has seen the device
 * (ID_MODEL, ID_SERIAL_SHORT, ID_WWN_WITH_EXTENSION), otherwise from sysfs attributes
 * (device/model, device/serial or serial, wwid or device/wwid). The set of known disks, keyed by
 * devnum, turns the kernel's add/change/remove of block devices into disk events. */
#include <ctype.h>
#include <errno.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "disk_discovery.h"
#include "log.h"
#include "parse_number.h"

DEFINE_POINTER_CLEANUP(struct udev_device, udev_device_unref)
DEFINE_POINTER_CLEANUP(struct udev_enumerate, udev_enumerate_unref)

struct disk_discovery {
    struct udev *udev;
    struct udev_monitor *monitor;
    struct disk_info *known; /* disks reported so far */
    size_t n_known;
};

static const char *const disk_event_table[_DISK_EVENT_MAX] = {
    [DISK_EVENT_ADDED] = "added",
    [DISK_EVENT_REMOVED] = "removed",
    [DISK_EVENT_CHANGED] = "changed",
};

const char *disk_event_to_string(enum disk_event e)
{
    return (unsigned) e < _DISK_EVENT_MAX ? disk_event_table[e] : NULL;
}

/* Copies s into buf as printable ASCII without surrounding blanks ("" for NULL). */
static void copy_clean(char *buf, size_t size, const char *s)
{
    size_t n = 0;

    buf[0] = 0;
    if (!s)
        return;
    while (isspace((unsigned char) *s))
        s++;
    for (; *s && n + 1 < size; s++)
        buf[n++] = (unsigned char) *s >= 0x20 && (unsigned char) *s < 0x7f ? *s : '_';
    while (n > 0 && isspace((unsigned char) buf[n - 1]))
        n--;
    buf[n] = 0;
}

/* The first of the udev properties, then of the sysfs attributes, that is set and not empty. */
static void pick(struct udev_device *dev, char *buf, size_t size, const char *const *props,
                 const char *const *attrs)
{
    for (; props && *props; props++) {
        copy_clean(buf, size, udev_device_get_property_value(dev, *props));
        if (buf[0])
            return;
    }
    for (; attrs && *attrs; attrs++) {
        copy_clean(buf, size, udev_device_get_sysattr_value(dev, *attrs));
        if (buf[0])
            return;
    }
}

/* Fills ret from a udev block device; -ENODEV when it is not a disk we follow. */
static int disk_info_from_udev(struct udev_device *dev, struct disk_info *ret)
{
    static const char *const model_props[] = {"ID_MODEL", NULL};
    static const char *const model_attrs[] = {"device/model", NULL};
    static const char *const serial_props[] = {"ID_SERIAL_SHORT", NULL};
    static const char *const serial_attrs[] = {"device/serial", "serial", NULL};
    static const char *const wwn_props[] = {"ID_WWN_WITH_EXTENSION", "ID_WWN", NULL};
    static const char *const wwn_attrs[] = {"wwid", "device/wwid", NULL};
    struct disk_info d = {};
    const char *name, *v;
    uint64_t size = 0;

    if (!streq_ptr(udev_device_get_subsystem(dev), "block") ||
        !streq_ptr(udev_device_get_devtype(dev), "disk"))
        return -ENODEV;
    name = udev_device_get_sysname(dev);
    if (!disk_name_is_valid(name))
        return -ENODEV;
    d.devnum = udev_device_get_devnum(dev);
    if (major(d.devnum) == 0)
        return -ENODEV;
    v = udev_device_get_sysattr_value(dev, "hidden");
    if (v && streq(v, "1"))
        return -ENODEV;
    v = udev_device_get_sysattr_value(dev, "size");
    if (!v || parse_uint_digits(v, &size) < 0 || size == 0)
        return -ENODEV;

    snprintf(d.name, sizeof(d.name), "%s", name);
    v = udev_device_get_sysattr_value(dev, "queue/rotational");
    d.rotational = v && streq(v, "1");
    d.type = disk_type_classify(d.name, d.rotational);
    pick(dev, d.model, sizeof(d.model), model_props, model_attrs);
    pick(dev, d.serial, sizeof(d.serial), serial_props, serial_attrs);
    pick(dev, d.wwn, sizeof(d.wwn), wwn_props, wwn_attrs);
    *ret = d;
    return 0;
}

int disk_discovery_new(struct disk_discovery **ret)
{
    struct disk_discovery *dd;

    assert_return(ret, -EINVAL);
    dd = calloc(1, sizeof(*dd));
    if (!dd)
        return -ENOMEM;
    dd->udev = udev_new();
    if (!dd->udev) {
        free(dd);
        return -ENOMEM;
    }
    *ret = dd;
    return 0;
}

struct disk_discovery *disk_discovery_free(struct disk_discovery *dd)
{
    if (!dd)
        return NULL;
    udev_monitor_unref(dd->monitor);
    udev_unref(dd->udev);
    free(dd->known);
    free(dd);
    return NULL;
}

static ssize_t known_index(struct disk_discovery *dd, dev_t devnum)
{
    for (size_t i = 0; i < dd->n_known; i++)
        if (dd->known[i].devnum == devnum)
            return (ssize_t) i;
    return -1;
}

static int known_add(struct disk_discovery *dd, const struct disk_info *d)
{
    struct disk_info *l = reallocarray(dd->known, dd->n_known + 1, sizeof(*l));
    if (!l)
        return -ENOMEM;
    dd->known = l;
    dd->known[dd->n_known++] = *d;
    return 0;
}

static void known_remove(struct disk_discovery *dd, size_t i)
{
    memmove(dd->known + i, dd->known + i + 1, (dd->n_known - i - 1) * sizeof(*dd->known));
    dd->n_known--;
}

/* The disks present now, as a new array. */
static int disk_discovery_scan(struct disk_discovery *dd, struct disk_info **ret, size_t *ret_n)
{
    _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
    _cleanup_free_ struct disk_info *l = NULL;
    struct udev_list_entry *it;
    size_t n = 0;
    int r;

    e = udev_enumerate_new(dd->udev);
    if (!e)
        return -ENOMEM;
    r = udev_enumerate_add_match_subsystem(e, "block");
    if (r >= 0)
        r = udev_enumerate_add_match_property(e, "DEVTYPE", "disk");
    if (r >= 0)
        r = udev_enumerate_scan_devices(e);
    if (r < 0)
        return log_error_errno(r, "cannot enumerate block devices: %m");

    udev_list_entry_foreach(it, udev_enumerate_get_list_entry(e))
    {
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;
        struct disk_info d, *p;

        dev = udev_device_new_from_syspath(dd->udev, udev_list_entry_get_name(it));
        if (!dev || disk_info_from_udev(dev, &d) < 0)
            continue;
        p = reallocarray(l, n + 1, sizeof(*l));
        if (!p)
            return -ENOMEM;
        l = p;
        l[n++] = d;
    }
    *ret = TAKE_PTR(l);
    *ret_n = n;
    return 0;
}

int disk_discovery_enumerate(struct disk_discovery *dd, struct disk_info **ret, size_t *ret_n)
{
    _cleanup_free_ struct disk_info *l = NULL;
    struct disk_info *copy = NULL;
    size_t n = 0;
    int r;

    assert_return(dd && ret && ret_n, -EINVAL);

    r = disk_discovery_scan(dd, &l, &n);
    if (r < 0)
        return r;
    /* This is now what later events are compared with. */
    if (n > 0) {
        copy = malloc(n * sizeof(*l));
        if (!copy)
            return -ENOMEM;
        memcpy(copy, l, n * sizeof(*l));
    }
    free(dd->known);
    dd->known = copy;
    dd->n_known = n;
    *ret = TAKE_PTR(l);
    *ret_n = n;
    return 0;
}

int disk_discovery_find(struct disk_discovery *dd, const char *name, struct disk_info *ret)
{
    _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;

    assert_return(dd && ret, -EINVAL);
    if (!disk_name_is_valid(name))
        return -EINVAL;
    dev = udev_device_new_from_subsystem_sysname(dd->udev, "block", name);
    if (!dev)
        return -ENODEV;
    return disk_info_from_udev(dev, ret);
}

int disk_discovery_monitor_fd(struct disk_discovery *dd)
{
    struct udev_monitor *m;
    const char *source;
    int r;

    assert_return(dd, -EINVAL);
    if (dd->monitor)
        return udev_monitor_get_fd(dd->monitor);

    /* udevd's events carry the identity its rules found; without udevd, the kernel's own. */
    source = access("/run/udev/control", F_OK) >= 0 ? "udev" : "kernel";
    m = udev_monitor_new_from_netlink(dd->udev, source);
    if (!m)
        return log_error_errno(errno ? errno : ENOMEM, "cannot create a %s device monitor: %m",
                               source);
    r = udev_monitor_filter_add_match_subsystem_devtype(m, "block", "disk");
    if (r >= 0)
        r = udev_monitor_enable_receiving(m);
    if (r < 0) {
        udev_monitor_unref(m);
        return log_error_errno(r, "cannot listen to %s block device events: %m", source);
    }
    /* Best effort: a bigger buffer survives bursts (needs CAP_NET_ADMIN). */
    (void) udev_monitor_set_receive_buffer_size(m, 4 * 1024 * 1024);
    log_debug("listening to %s block device events", source);
    dd->monitor = m;
    return udev_monitor_get_fd(m);
}

static bool disk_info_equal(const struct disk_info *a, const struct disk_info *b)
{
    return streq(a->name, b->name) && a->devnum == b->devnum && a->type == b->type &&
           a->rotational == b->rotational && streq(a->model, b->model) &&
           streq(a->serial, b->serial) && streq(a->wwn, b->wwn);
}

/* One event: compares what the device is now with what we knew. Returns 1 if reported. */
static int disk_discovery_handle(struct disk_discovery *dd, struct udev_device *dev,
                                 disk_event_handler_t handler, void *userdata)
{
    const char *action = udev_device_get_action(dev);
    struct disk_info d, old;
    bool is_disk = false;
    ssize_t i;
    int r;

    i = known_index(dd, udev_device_get_devnum(dev));
    if (!streq_ptr(action, "remove"))
        is_disk = disk_info_from_udev(dev, &d) >= 0;

    if (is_disk && i < 0) {
        r = known_add(dd, &d);
        if (r < 0)
            return r;
        handler(DISK_EVENT_ADDED, &d, userdata);
        return 1;
    }
    if (!is_disk && i >= 0) {
        old = dd->known[i];
        known_remove(dd, (size_t) i);
        handler(DISK_EVENT_REMOVED, &old, userdata);
        return 1;
    }
    if (is_disk && !disk_info_equal(&d, &dd->known[i])) {
        if (!streq(d.name, dd->known[i].name)) {
            /* a devnum reused under another name: the old disk went, a new one came */
            old = dd->known[i];
            dd->known[i] = d;
            handler(DISK_EVENT_REMOVED, &old, userdata);
            handler(DISK_EVENT_ADDED, &d, userdata);
            return 1;
        }
        dd->known[i] = d;
        handler(DISK_EVENT_CHANGED, &d, userdata);
        return 1;
    }
    return 0;
}

/* After lost events: compares a fresh scan with what we knew and reports the differences. */
static int disk_discovery_resync(struct disk_discovery *dd, disk_event_handler_t handler,
                                 void *userdata)
{
    _cleanup_free_ struct disk_info *now = NULL, *before = NULL;
    size_t n_now = 0, n_before = dd->n_known;
    int r, n = 0;

    r = disk_discovery_scan(dd, &now, &n_now);
    if (r < 0)
        return r;
    before = TAKE_PTR(dd->known);
    dd->n_known = 0;
    for (size_t i = 0; i < n_before; i++) {
        bool still = false;
        for (size_t j = 0; j < n_now; j++)
            still =
                still || (now[j].devnum == before[i].devnum && streq(now[j].name, before[i].name));
        if (!still) {
            handler(DISK_EVENT_REMOVED, &before[i], userdata);
            n++;
        }
    }
    for (size_t j = 0; j < n_now; j++) {
        const struct disk_info *old = NULL;
        for (size_t i = 0; i < n_before; i++)
            if (before[i].devnum == now[j].devnum && streq(before[i].name, now[j].name))
                old = &before[i];
        if (!old || !disk_info_equal(old, &now[j])) {
            handler(old ? DISK_EVENT_CHANGED : DISK_EVENT_ADDED, &now[j], userdata);
            n++;
        }
    }
    dd->known = TAKE_PTR(now);
    dd->n_known = n_now;
    return n;
}

int disk_discovery_process(struct disk_discovery *dd, disk_event_handler_t handler, void *userdata)
{
    bool lost = false;

    int n = 0, r;

    assert_return(dd && handler, -EINVAL);
    if (!dd->monitor)
        return 0;

    for (;;) {
        _cleanup_(udev_device_unrefp) struct udev_device *dev = NULL;

        errno = 0;
        dev = udev_monitor_receive_device(dd->monitor);
        if (!dev) {
            /* nothing more pending (or an event that libudev dropped as malformed) */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == 0 || errno == EINTR)
                break;
            if (errno == ENOBUFS && !lost) {
                log_warning("block device events were lost (socket buffer overrun); rescanning");
                lost = true;
                continue;
            }
            break;
        }
        r = disk_discovery_handle(dd, dev, handler, userdata);
        if (r < 0)
            return r;
        n += r;
    }
    if (lost) {
        r = disk_discovery_resync(dd, handler, userdata);
        if (r < 0)
            return r;
        n += r;
    }
    return n;
}
