/* xalarm_register.c: the callback API of libxalarm (xalarm_Register, xalarm_UnRegister,
 * xalarm_Upgrade) and the alarm_info getters.
 *
 * A process has at most one registration (client id 0), the named global xalarm_registration:
 * a stream connection to <dir>/alarm, an id bitmap, the program's callback and a receiver
 * thread ("register-recv"). The thread waits in poll() on the connection and on an eventfd;
 * xalarm_UnRegister() writes the eventfd, so joining never waits for an alarm that may never
 * come. Records are reassembled from the stream however it splits them, and the callback runs
 * in the receiver thread for every id of the bitmap, without any lock held, so it may call the
 * API itself (even xalarm_UnRegister(), which then lets the thread end on its own).
 * Messages and return values are the reference's; messages go to stdout, as there. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "sentry/register_xalarm.h"
#include "xalarm_client.h"

#define XALARM_CLIENT_ID 0

/* One registration. Set up by xalarm_Register() before the thread starts; afterwards the
 * thread reads the stream alone, and the bitmap is shared under bitmap_lock (a lock of its own,
 * so that the thread never waits for xalarm_Upgrade() talking to the server). */
struct xalarm_receiver {
    int fd;                       /* alarm stream, non-blocking */
    int wakeup_fd;                /* eventfd: readable once the thread must end */
    alarm_callback_func callback; /* set once before the thread starts */
    pthread_mutex_t bitmap_lock;
    char bitmap[MAX_NUM_OF_ALARM_ID]; /* ids passed to the callback */
    pthread_t thread;
    atomic_bool running;         /* false once the thread ended (end of stream, error) */
    atomic_bool stop;            /* set by xalarm_UnRegister() called from the callback */
    struct xalarm_reader reader; /* thread only */
};

/* The process's registration, NULL when there is none. Guarded by xalarm_lock, which is never
 * held while the callback runs or while a thread is joined. */
static pthread_mutex_t xalarm_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xalarm_receiver *xalarm_registration;
/* In the receiver thread, its registration: tells xalarm_UnRegister() it runs in the callback. */
static _Thread_local struct xalarm_receiver *xalarm_receiver_self;

static struct xalarm_receiver *xalarm_receiver_free(struct xalarm_receiver *x)
{
    if (!x)
        return NULL;
    if (x->fd >= 0)
        close(x->fd);
    if (x->wakeup_fd >= 0)
        close(x->wakeup_fd);
    pthread_mutex_destroy(&x->bitmap_lock);
    free(x);
    return NULL;
}
DEFINE_POINTER_CLEANUP(struct xalarm_receiver, xalarm_receiver_free)

static bool xalarm_receiver_wants(struct xalarm_receiver *x, unsigned id)
{
    bool b;

    pthread_mutex_lock(&x->bitmap_lock);
    b = xalarm_bitmap_has(x->bitmap, id);
    pthread_mutex_unlock(&x->bitmap_lock);
    return b;
}

/* One read from the stream; runs the callback when it completed a record of the bitmap.
 * 0 to go on, 1 when the thread must end. One read per wakeup keeps xalarm_UnRegister()
 * prompt even while alarms keep coming. */
static int xalarm_receiver_dispatch(struct xalarm_receiver *x)
{
    int r = xalarm_reader_read(&x->reader, x->fd);
    if (r == -EAGAIN || r == 0)
        return 0;
    if (r == -EPIPE) {
        printf("connection closed by xalarmd, maybe connections reach max num or service "
               "stopped.\n");
        return 1;
    }
    if (r < 0) {
        printf("recv error errno:%d\n", -r);
        return 1;
    }
    if (!xalarm_receiver_wants(x, x->reader.rec.usAlarmId))
        return 0;
    x->callback(&x->reader.rec);
    return atomic_load(&x->stop) ? 1 : 0;
}

static void *xalarm_receiver_main(void *arg)
{
    struct xalarm_receiver *x = arg;

    xalarm_receiver_self = x;
    /* The name is only for ps and gdb: failing to set it is no reason to stop. */
    (void) pthread_setname_np(pthread_self(), "register-recv");

    for (;;) {
        struct pollfd p[2] = {
            {.fd = x->fd, .events = POLLIN},
            {.fd = x->wakeup_fd, .events = POLLIN},
        };
        if (poll(p, ELEMENTSOF(p), -1) < 0) {
            if (errno == EINTR)
                continue;
            printf("poll error errno:%d\n", errno);
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents && xalarm_receiver_dispatch(x) > 0)
            break;
    }

    atomic_store(&x->running, false);
    /* Unregistered from inside the callback: nobody joins this thread, it cleans up itself. */
    if (atomic_load(&x->stop))
        xalarm_receiver_free(x);
    return NULL;
}

/* Starts the thread with every signal blocked, so that the program's signal handlers run in
 * its own threads and never interrupt the callback. */
static int xalarm_receiver_start(struct xalarm_receiver *x)
{
    sigset_t all, old;
    int r;

    if (sigfillset(&all) < 0)
        return -errno;
    r = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (r != 0)
        return -r;
    atomic_store(&x->running, true);
    r = pthread_create(&x->thread, NULL, xalarm_receiver_main, x);
    (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0) {
        atomic_store(&x->running, false);
        return -r;
    }
    return 0;
}

/* Connects, registers and starts the receiver; prints the reason of a failure. */
static int xalarm_receiver_new(alarm_callback_func callback,
                               const struct alarm_subscription_info *filter,
                               struct xalarm_receiver **ret)
{
    _cleanup_(xalarm_receiver_freep) struct xalarm_receiver *x = NULL;
    int r;

    x = calloc(1, sizeof(*x));
    if (!x) {
        printf("xalarm_Register: out of memory\n");
        return -ENOMEM;
    }
    x->fd = x->wakeup_fd = -EBADF;
    x->callback = callback;
    pthread_mutex_init(&x->bitmap_lock, NULL);
    xalarm_filter_to_bitmap(filter, x->bitmap);

    r = xalarm_stream_connect(&x->fd);
    if (r < 0) {
        printf("xalarm_Register: cannot connect to %s/%s: %s\n", xalarm_socket_dir(),
               XALARM_SOCKET_ALARM, strerror(-r));
        printf("xalarm_Register: create_unix_socket failed\n");
        return r;
    }
    r = xalarm_stream_send_register(x->fd, x->bitmap);
    if (r < 0) {
        printf("xalarm_Register: sending the registration failed: %s\n", strerror(-r));
        return r;
    }
    /* Only now: a blocking connect and registration, then a thread that never blocks in recv. */
    r = fd_set_nonblock(x->fd, true);
    if (r < 0) {
        printf("xalarm_Register: fcntl setfl failed: %s\n", strerror(-r));
        return r;
    }
    x->wakeup_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (x->wakeup_fd < 0) {
        r = -errno;
        printf("xalarm_Register: eventfd failed: %s\n", strerror(-r));
        return r;
    }
    r = xalarm_receiver_start(x);
    if (r < 0) {
        printf("xalarm_Register: create_thread failed: %s\n", strerror(-r));
        return r;
    }
    *ret = TAKE_PTR(x);
    return 0;
}

_public_ int xalarm_Register(alarm_callback_func callback, struct alarm_subscription_info id_filter)
{
    struct xalarm_receiver *x = NULL;
    int r;

    pthread_mutex_lock(&xalarm_lock);
    if (xalarm_registration) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_Register: alarm has registered\n");
        return -1;
    }
    if (!callback || !xalarm_filter_valid(&id_filter)) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_Register: param is invalid\n");
        return -1;
    }
    /* The lock is held across the connection so that two threads cannot both register. */
    r = xalarm_receiver_new(callback, &id_filter, &x);
    if (r >= 0)
        xalarm_registration = x;
    pthread_mutex_unlock(&xalarm_lock);
    return r < 0 ? -1 : 0;
}

_public_ void xalarm_UnRegister(int client_id)
{
    struct xalarm_receiver *x;
    uint64_t one = 1;

    pthread_mutex_lock(&xalarm_lock);
    if (!xalarm_registration) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_UnRegister: alarm has not registered\n");
        return;
    }
    if (client_id != XALARM_CLIENT_ID) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_UnRegister: invalid client\n");
        return;
    }
    x = TAKE_PTR(xalarm_registration);
    pthread_mutex_unlock(&xalarm_lock);

    if (xalarm_receiver_self == x) {
        /* Called from the callback: the thread cannot join itself. It ends when the callback
         * returns and frees the registration then. */
        atomic_store(&x->stop, true);
        (void) pthread_detach(x->thread);
        return;
    }

    /* An eventfd counter only fails to take 1 when it would overflow, which cannot happen with
     * one write; the thread also ends by itself when it has already stopped. */
    if (write(x->wakeup_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        printf("xalarm_UnRegister: waking the receiver failed errno:%d\n", errno);
    (void) pthread_join(x->thread, NULL);
    xalarm_receiver_free(x);
}

_public_ bool xalarm_Upgrade(struct alarm_subscription_info id_filter, int client_id)
{
    struct xalarm_receiver *x;
    char bitmap[MAX_NUM_OF_ALARM_ID];
    int r;

    pthread_mutex_lock(&xalarm_lock);
    x = xalarm_registration;
    if (!x) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_Upgrade: alarm has not registered, cannot upgrade\n");
        return false;
    }
    if (client_id != XALARM_CLIENT_ID || !xalarm_filter_valid(&id_filter)) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_Upgrade: invalid args\n");
        return false;
    }
    if (!atomic_load(&x->running)) {
        pthread_mutex_unlock(&xalarm_lock);
        printf("xalarm_Upgrade: upgrade failed, alarm thread has stopped\n");
        return false;
    }
    /* The local bitmap first: ids added are accepted as soon as the server sends them, ids
     * removed are dropped here until the server stops sending them. */
    xalarm_filter_to_bitmap(&id_filter, bitmap);
    pthread_mutex_lock(&x->bitmap_lock);
    memcpy(x->bitmap, bitmap, sizeof(bitmap));
    pthread_mutex_unlock(&x->bitmap_lock);
    /* Then the server's filter, so that it sends the new ids at all. The lock keeps
     * xalarm_UnRegister() from closing the fd meanwhile. */
    r = xalarm_stream_send_update(x->fd, bitmap);
    pthread_mutex_unlock(&xalarm_lock);
    if (r < 0) {
        printf("xalarm_Upgrade: upgrade failed, sending the filter to xalarmd failed: %s\n",
               strerror(-r));
        return false;
    }
    return true;
}

/* The getters return 0 (NULL) for a NULL record, as the reference's. */
_public_ unsigned short xalarm_getid(const struct alarm_info *palarm)
{
    return palarm ? palarm->usAlarmId : 0;
}

_public_ unsigned char xalarm_getlevel(const struct alarm_info *palarm)
{
    return palarm ? palarm->ucAlarmLevel : 0;
}

_public_ unsigned char xalarm_gettype(const struct alarm_info *palarm)
{
    return palarm ? palarm->ucAlarmType : 0;
}

/* Milliseconds since the epoch. */
_public_ long long xalarm_gettime(const struct alarm_info *palarm)
{
    if (!palarm)
        return 0;
    return (long long) palarm->AlarmTime.tv_sec * 1000 +
           (long long) palarm->AlarmTime.tv_usec / 1000;
}

_public_ char *xalarm_getdesc(const struct alarm_info *palarm)
{
    return palarm ? (char *) palarm->pucParas : NULL;
}
