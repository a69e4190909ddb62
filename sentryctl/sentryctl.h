/* sentryctl.h: what sentryctl's command files share: the global options, the connection, the
 * exit codes and the output helpers. */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "client_conn.h"
#include "ctl_number.h"
#include "json_util.h"

/* Exit codes (docs/sentryctl.md). */
enum {
    EXIT_OK = 0,
    EXIT_FAILED = 1,      /* sentryd refused or the command failed */
    EXIT_USAGE = 2,       /* bad command line */
    EXIT_UNREACHABLE = 3, /* sentryd is not running / the socket cannot be reached */
    EXIT_PERMISSION = 4,  /* sentryd refused for lack of privilege, or the socket may not be
                           * opened (not root, not in its group) */
};

struct ctl {
    const char *socket_path;
    bool json;
    usec_t timeout;
    struct client_conn *conn;
};

struct ctl_command {
    const char *name;
    int (*run)(struct ctl *ctl, int argc, char **argv); /* argv[0] is the command name */
    const char *args;                                   /* for usage lines */
    const char *summary;
};

extern const struct ctl_command task_commands[];
extern const struct ctl_command alarm_commands[];
extern const struct ctl_command io_commands[];
extern const struct ctl_command set_commands[];
extern const struct ctl_command mem_commands[];

/* Connects (once) and sends a request; on failure prints the error (text or JSON) and returns
 * the exit code; 0 with *ret (may be NULL) on success. */
int ctl_call(struct ctl *ctl, const char *verb, json_object *args, json_object **ret);
/* The arguments of a request about one task: {"task": name}. */
json_object *ctl_task_args(const char *name);
/* ctl_call() of a verb that takes one task name and nothing else (get_result, start, ...). */
int ctl_call_task(struct ctl *ctl, const char *verb, const char *name, json_object **ret);
/* An error found by sentryctl itself, printed as those of sentryd are: "sentryctl: VERB:
 * MESSAGE" on stderr, or with --json the error object ({"error":{"code","message"}}) on stdout;
 * err is an errno (its name is the code). */
void ctl_print_error(struct ctl *ctl, int err, const char *verb, const char *message);
/* Parses the options common to every command (--json, --help) with getopt_long; extra options
 * in `extra`/`extra_short`; returns the option char, -1 at the end, or EXIT_USAGE+1000 on an
 * error. The command's own help text is printed for --help (returns 'h'). */
/* JSON from sentryd on stdout, indented by 4 as Python's json.dumps (the reference's output), or
 * on one line: valid JSON, with control characters and bytes that are not UTF-8 escaped. */
void ctl_print_json(json_object *o);
void ctl_print_json_line(json_object *o);
/* One line of text on stdout / stderr (fmt without the newline): the whole formatted line is
 * escaped (terminal_escape.h), so strings from sentryd cannot drive the terminal. */
void ctl_print_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ctl_eprint_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sentryctl: CMD: MESSAGE" and the --help hint on stderr; returns EXIT_USAGE. */
int ctl_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The one operand left after the options (argv[optind]) must be a task name: *name gets it.
 * EXIT_OK, or EXIT_USAGE after saying what is wrong. */
int ctl_task_operand(int argc, char **argv, const char **name);
/* Checks a task name argument as the reference client does (longer than 256 is refused). */
int ctl_check_task_arg(const char *cmd, const char *name);
/* Prints `text` as the help of a command and returns EXIT_OK. */
int ctl_command_help(const char *text);

/* Options every command takes; put CTL_COMMON_OPTIONS in each command's option table. */
#define CTL_COMMON_OPTIONS             \
    {"json", no_argument, NULL, 'j'},  \
    {                                  \
        "help", no_argument, NULL, 'h' \
    }
#define CTL_COMMON_SHORT "jh"
/* Runs getopt_long over a command's argv; *done is set when the command must return the
 * returned exit code (help shown or bad option). Other option characters are returned. */
int ctl_getopt(struct ctl *ctl, int argc, char **argv, const char *shortopts,
               const struct option *longopts, const char *help, bool *done);
