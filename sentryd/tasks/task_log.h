/* task_log.h: a task's log file (<log_dir>/<task>.log) as operators read it through sentryd,
 * and the lines of sentryd's own in it (written by task_output.c).
 *
 * sentryd writes a marker line into the log before each run of a task ("-- sentryd: run 3
 * started at ..."), so that `sentryctl status` can show the last lines of the last run only, like
 * `systemctl status` shows the unit's last journal lines. The tail is read from a bounded window
 * at the end of the file, never through a symlink and never from anything but a regular file,
 * and every line is made safe to print: control characters and bytes that are not UTF-8 are
 * escaped. The helpers are pure where they can be (task_log_tail_lines), so the
 * unit tests pin them without files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "time_util.h"

/* Every marker line begins with this. */
#define TASK_LOG_MARKER "-- sentryd: run "
/* The first line of a log file begun by a rotation (task_output.h). A tail that reaches it
 * begins with it: the run began in an older file, and the line says which. */
#define TASK_LOG_ROTATED_MARKER "-- sentryd: log rotated "
/* Bytes read from the end of a log to find its tail. */
#define TASK_LOG_TAIL_READ_MAX (16 * 1024)
/* Escaped bytes of all the lines of a tail together (the answer must fit a protocol line). */
#define TASK_LOG_TAIL_TEXT_MAX (16 * 1024)
/* Escaped bytes of one line; a longer line is cut and ends in "...". */
#define TASK_LOG_LINE_MAX 1024
/* Most lines a tail may have (`sentryctl status -n`). */
#define TASK_LOG_LINES_MAX 1000
/* Lines of a tail when the client names no number. */
#define TASK_LOG_LINES_DEFAULT 10

/* The marker line written before run `run` (NUL-terminated, ending in '\n'). with_pre: the run
 * begins with the task_pre commands. -ENOBUFS when size is too small. */
int task_log_format_marker(char *buf, size_t size, uint64_t run, usec_t realtime, bool with_pre);

/* The first line of a file begun by a rotation of a log capped at max_size bytes; where says
 * what became of the older output ("the older output is in x.log.1"). -ENOBUFS. */
int task_log_format_rotated(char *buf, size_t size, usec_t realtime, uint64_t max_size,
                            const char *where);
/* The line that reports n bytes of output lost, and why. -ENOBUFS. */
int task_log_format_dropped(char *buf, size_t size, uint64_t n, const char *why);

/* From buf (the last len bytes of a log; at_start: buf holds the file from its first byte), the
 * last max_lines lines of the last run: from its marker line on when the window holds one,
 * else every whole line of the window. A first line cut by the window is dropped, a last line
 * without its newline kept. Lines are escaped (terminal_escape.h, TASK_LOG_LINE_MAX) and, newest
 * first, kept while they fit TASK_LOG_TAIL_TEXT_MAX together. *ret: a strv, oldest first
 * (empty when nothing fits or max_lines is 0). */
int task_log_tail_lines(const char *buf, size_t len, bool at_start, unsigned max_lines,
                        char ***ret);

/* Reads the last TASK_LOG_TAIL_READ_MAX bytes of the log at path and returns
 * task_log_tail_lines() of them. The file is opened with O_NOFOLLOW and O_NONBLOCK and must be a
 * regular file: -ELOOP for a symlink, -EBADFD for anything else, -ENOENT when there is none. */
int task_log_read_tail(const char *path, unsigned max_lines, char ***ret);
