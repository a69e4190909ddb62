/* task_output.c: see task_output.h. Owns the pipe (both ends: the write end is kept so that it
 * can be given to every process of the task, and so the pipe never reports EOF), its event
 * source and the open log file; files are named relative to the log directory's fd and opened
 * with O_NOFOLLOW, never through a symlink. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "macro.h"
#include "task_log.h"
#include "task_output.h"

#define OUTPUT_BUF_SIZE (16 * 1024)

struct task_output {
    sd_event *event;
    char *name;    /* the task's */
    char *log_dir; /* for messages and the directory's fd */
    struct task_output_limits limits;
    int dir_fd;
    int pipe_r, pipe_w;
    sd_event_source *source;
    int log_fd;         /* the current file, -1 when not open */
    uint64_t size;      /* its size as far as this writer knows */
    uint64_t floor;     /* its size right after a rotation began it (the marker line) */
    uint64_t dropped;   /* bytes lost since the last write that worked */
    int drop_error;     /* why */
    bool open_reported; /* a failure to open the log was logged */
    char buf[OUTPUT_BUF_SIZE];
};

static void output_read(struct task_output *o, size_t budget);

size_t task_output_fit(uint64_t size, uint64_t max, bool fresh, const char *buf, size_t len,
                       bool *rotate)
{
    *rotate = false;
    if (max == 0 || size + len <= max)
        return len;
    *rotate = true;
    uint64_t room = size < max ? max - size : 0;
    size_t limit = room < len ? (size_t) room : len;
    const char *nl = limit > 0 ? memrchr(buf, '\n', limit) : NULL;
    if (nl)
        return (size_t) (nl - buf) + 1;
    return fresh ? limit : 0;
}

int task_output_file_name(const char *name, unsigned index, char *buf, size_t size)
{
    int n = index == 0 ? snprintf(buf, size, "%s.log", name)
                       : snprintf(buf, size, "%s.log.%u", name, index);
    return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int task_output_new(sd_event *event, const char *log_dir, const char *name,
                    const struct task_output_limits *limits, struct task_output **ret)
{
    struct task_output *o = calloc(1, sizeof(*o));

    if (!o)
        return -ENOMEM;
    *o = (struct task_output){
        .event = sd_event_ref(event),
        .name = strdup(name),
        .log_dir = strdup(log_dir),
        .limits = *limits,
        .dir_fd = -1,
        .pipe_r = -1,
        .pipe_w = -1,
        .log_fd = -1,
    };
    if (o->limits.max_files == 0)
        o->limits.max_files = 1;
    if (!o->name || !o->log_dir) {
        task_output_free(o);
        return -ENOMEM;
    }
    *ret = o;
    return 0;
}

struct task_output *task_output_free(struct task_output *o)
{
    if (!o)
        return NULL;
    if (o->source)
        output_read(o, TASK_OUTPUT_FLUSH_MAX);
    sd_event_source_disable_unref(o->source);
    if (o->pipe_r >= 0)
        close(o->pipe_r);
    if (o->pipe_w >= 0)
        close(o->pipe_w);
    if (o->log_fd >= 0)
        close(o->log_fd);
    if (o->dir_fd >= 0)
        close(o->dir_fd);
    sd_event_unref(o->event);
    free(o->name);
    free(o->log_dir);
    free(o);
    return NULL;
}

/* Opens <name>.log for appending; its size is where this writer starts counting. */
static int output_open(struct task_output *o)
{
    char fn[300];
    struct stat st;
    int r;

    if (o->dir_fd < 0) {
        o->dir_fd = open(o->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (o->dir_fd < 0)
            return -errno;
    }
    r = task_output_file_name(o->name, 0, fn, sizeof(fn));
    if (r < 0)
        return r;
    /* O_NONBLOCK: a FIFO put where the log belongs must not stall sentryd (refused below). */
    int fd = openat(o->dir_fd, fn,
                    O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                    0600);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EBADFD;
    }
    o->log_fd = fd;
    o->size = (uint64_t) st.st_size;
    o->floor = 0;
    o->open_reported = false;
    return 0;
}

static void output_drop(struct task_output *o, size_t len, int error)
{
    if (o->dropped == 0)
        log_task_warning_errno(o->name, error,
                               "cannot write the task's log in %s: %m; its output is dropped "
                               "until it can be written",
                               o->log_dir);
    o->dropped += len;
    o->drop_error = error;
}

/* Begins a new <name>.log: the older ones move up one number (the oldest is dropped), or, with
 * max_files 1 or when they cannot be moved, the current one starts again empty. */
static int output_rotate(struct task_output *o)
{
    char from[300], to[300], where[400], marker[600];
    struct stat st;
    bool kept = o->limits.max_files > 1;
    int r = 0;

    /* logrotate's copytruncate may have emptied the file behind this writer's back. */
    if (fstat(o->log_fd, &st) == 0 && (uint64_t) st.st_size < o->size) {
        o->size = (uint64_t) st.st_size;
        o->floor = 0;
        return 0;
    }
    close(o->log_fd);
    o->log_fd = -1;
    for (unsigned k = o->limits.max_files - 1; kept && k >= 1; k--) {
        if (task_output_file_name(o->name, k - 1, from, sizeof(from)) < 0 ||
            task_output_file_name(o->name, k, to, sizeof(to)) < 0) {
            r = -ENAMETOOLONG;
            kept = false;
        } else if (renameat(o->dir_fd, from, o->dir_fd, to) < 0 && errno != ENOENT) {
            r = -errno;
            kept = false;
        }
    }
    if (task_output_file_name(o->name, 0, from, sizeof(from)) < 0)
        return -ENAMETOOLONG;
    int fd = openat(o->dir_fd, from,
                    O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
                        O_NONBLOCK,
                    0600);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -EBADFD;
    }
    o->log_fd = fd;
    o->size = 0;
    if (kept)
        snprintf(where, sizeof(where), "the older output is in %s.log.1", o->name);
    else if (r < 0)
        snprintf(where, sizeof(where), "the older output was dropped (it cannot be moved: %s)",
                 strerror(-r));
    else
        snprintf(where, sizeof(where), "the older output was dropped (log_max_files = 1)");
    if (task_log_format_rotated(marker, sizeof(marker), now_usec(CLOCK_REALTIME),
                                o->limits.max_size, where) >= 0) {
        r = write_all(o->log_fd, marker, strlen(marker));
        if (r < 0)
            return r;
        o->size = strlen(marker);
    }
    o->floor = o->size;
    return 0;
}

/* Writes buf with the cap applied. On an error the rest is counted as dropped. */
static int output_put(struct task_output *o, const char *buf, size_t len)
{
    int r;

    while (len > 0) {
        bool rotate;
        size_t n =
            task_output_fit(o->size, o->limits.max_size, o->size <= o->floor, buf, len, &rotate);

        if (n == 0 && !rotate)
            break;
        if (n == 0 && o->size <= o->floor) {
            /* A cap smaller than the marker: nothing can ever be written. */
            output_drop(o, len, EFBIG);
            return -EFBIG;
        }
        if (n > 0) {
            r = write_all(o->log_fd, buf, n);
            if (r < 0) {
                output_drop(o, len, -r);
                close(o->log_fd);
                o->log_fd = -1;
                return r;
            }
            o->size += n;
            buf += n;
            len -= n;
        }
        if (rotate) {
            r = output_rotate(o);
            if (r < 0) {
                output_drop(o, len, -r);
                if (o->log_fd >= 0)
                    close(o->log_fd);
                o->log_fd = -1;
                return r;
            }
        }
    }
    return 0;
}

static void output_append(struct task_output *o, const char *buf, size_t len)
{
    int r;

    if (o->log_fd < 0) {
        r = output_open(o);
        if (r < 0) {
            if (!o->open_reported)
                log_task_warning_errno(o->name, r, "cannot open the task's log in %s: %m",
                                       o->log_dir);
            o->open_reported = true;
            o->dropped += len;
            o->drop_error = -r;
            return;
        }
    }
    if (o->dropped > 0) {
        char note[256];
        uint64_t dropped = o->dropped;
        int error = o->drop_error;

        o->dropped = 0;
        if (task_log_format_dropped(note, sizeof(note), dropped, strerror(error)) >= 0 &&
            output_put(o, note, strlen(note)) < 0) {
            /* Still failing: what was dropped before and this chunk stay to be reported. */
            o->dropped = dropped + len;
            return;
        }
        log_task_notice(o->name, "the task's log is written again (%" PRIu64 " bytes dropped)",
                        dropped);
    }
    (void) output_put(o, buf, len);
}

/* Reads at most budget bytes from the pipe into the log. */
static void output_read(struct task_output *o, size_t budget)
{
    size_t got = 0;

    while (got < budget && o->pipe_r >= 0) {
        ssize_t n = read(o->pipe_r, o->buf, MIN(sizeof(o->buf), budget - got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n < 0) {
            log_task_error_errno(o->name, errno, "cannot read the task's output: %m");
            sd_event_source_set_enabled(o->source, SD_EVENT_OFF);
            break;
        }
        if (n == 0)
            break;
        output_append(o, o->buf, (size_t) n);
        got += (size_t) n;
    }
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
    output_read(userdata, TASK_OUTPUT_READ_BUDGET);
    return 0;
}

int task_output_pipe(struct task_output *o)
{
    int fds[2], r;

    if (o->pipe_w >= 0)
        return o->pipe_w;
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    /* Only sentryd's end is non-blocking: the task's stdout stays an ordinary one. */
    r = fd_set_nonblock(fds[0], 1);
    if (r >= 0)
        (void) fcntl(fds[0], F_SETPIPE_SZ, TASK_OUTPUT_PIPE_SIZE);
    if (r >= 0)
        r = sd_event_add_io(o->event, &o->source, fds[0], EPOLLIN, on_output, o);
    if (r < 0) {
        o->source = sd_event_source_disable_unref(o->source);
        close(fds[0]);
        close(fds[1]);
        return r;
    }
    o->pipe_r = fds[0];
    o->pipe_w = fds[1];
    return o->pipe_w;
}

void task_output_flush(struct task_output *o)
{
    if (o && o->source)
        output_read(o, TASK_OUTPUT_FLUSH_MAX);
}

void task_output_note(struct task_output *o, const char *line)
{
    if (!o)
        return;
    task_output_flush(o);
    output_append(o, line, strlen(line));
}
