/* task_output.h: a task's output, from its processes to its log file, capped.
 *
 * The processes of a task write (stdout and stderr) into one pipe per task; sentryd reads it in
 * its event loop and appends what it reads to <log_dir>/<task>.log. Reading is bounded per
 * wake-up (TASK_OUTPUT_READ_BUDGET): sd-event serves the sources that are ready in turn, so a
 * chatty task can neither starve the loop nor delay an operator by more than one such read; it
 * waits on its full pipe meanwhile (a lower priority would be worse: a busy socket would then
 * starve the pipe, and the task with it).
 *
 * Each file is capped at max_size bytes. When the next bytes would pass the cap the log is
 * rotated (<task>.log -> <task>.log.1 -> ... -> <task>.log.<max_files - 1>, the oldest is
 * dropped), cut after the last whole line that fits, and the new file begins with a marker line
 * that says so (task_log.h). Bytes that cannot be written (disk full, ...) are counted, and a
 * marker says how many were dropped once writing works again. sentryd's own lines (the run
 * marker, "cannot start") go through the same writer after what the pipe already holds, so they
 * keep their place among the task's lines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

/* Bytes read from the pipe per wake-up of the loop. */
#define TASK_OUTPUT_READ_BUDGET (64 * 1024)
/* Bytes one flush (before a marker, at a process's end, for `status`) may move at once. */
#define TASK_OUTPUT_FLUSH_MAX (1024 * 1024)
/* Pipe capacity asked for: room for a burst while the loop is busy elsewhere. */
#define TASK_OUTPUT_PIPE_SIZE (256 * 1024)

struct task_output_limits {
    uint64_t max_size;  /* bytes per file; 0: no cap */
    unsigned max_files; /* files kept, the current one included; 0 is taken as 1 */
};

struct task_output;

/* The writer of task `name` into log_dir. Nothing is opened before the first use. */
int task_output_new(sd_event *event, const char *log_dir, const char *name,
                    const struct task_output_limits *limits, struct task_output **ret);
/* Moves what the pipe still holds to the log, then closes everything. */
struct task_output *task_output_free(struct task_output *o);

/* The pipe's write end for a child's stdout and stderr (O_CLOEXEC: the child dup2()s it),
 * created on first use; -errno when there is none. */
int task_output_pipe(struct task_output *o);
/* Moves what the pipe holds now (at most TASK_OUTPUT_FLUSH_MAX bytes) to the log. */
void task_output_flush(struct task_output *o);
/* Appends one line of sentryd's own (ending in '\n') after a flush. */
void task_output_note(struct task_output *o, const char *line);

/* Pure: how many bytes of buf[0..len) go into a log file of `size` bytes capped at `max` before
 * it must be rotated (*rotate). All of them when they fit (max 0: no cap). Else up to the last
 * newline that fits; else, when the file holds more than its rotation marker (fresh false),
 * none (the line begins the next file); else (a line longer than a whole file) as many as fit. */
size_t task_output_fit(uint64_t size, uint64_t max, bool fresh, const char *buf, size_t len,
                       bool *rotate);
/* "<name>.log" for index 0, "<name>.log.<index>" otherwise. -ENAMETOOLONG. */
int task_output_file_name(const char *name, unsigned index, char *buf, size_t size);
