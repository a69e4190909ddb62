/* mem_command.c: sentryctl mem, the memory-error view of the mem_sentry task: the details of its
 * last result (what get_result fetches) as a line of event sources, the counts, and tables of
 * the DIMMs, the pages and the offlined pages.
 *
 * The details are whatever the task reported, so nothing in them is trusted: each member is
 * checked for its type and range before it is shown, and what is missing or malformed shows as
 * "-"; a row that is not an object is skipped and counted; a table shows at most MEM_ROWS_MAX
 * rows; every string is escaped (terminal_escape.h) and cut to MEM_CELL_SIZE. --json prints the
 * details as they came. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sentryctl.h"
#include "terminal_escape.h"
#include "time_util.h"

#define MEM_TASK_DEFAULT "mem_sentry"
/* Most rows of a table (and lines of counts) shown; the others are counted. */
#define MEM_ROWS_MAX 1000
/* Bytes of one cell once escaped, with its NUL: a longer string is cut and ends in "...". */
#define MEM_CELL_SIZE 64
#define MEM_COLS_MAX  5
/* The last time shown, 9999-12-31 23:59:59 UTC, in seconds. */
#define MEM_TIME_MAX 253402300799LL

typedef char mem_row[MEM_COLS_MAX][MEM_CELL_SIZE];

/* o[key] when o is an object and the member has that type, else NULL. */
static json_object *member(json_object *o, const char *key, enum json_type type)
{
    json_object *v;

    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, type))
        return NULL;
    return v;
}

/* A string escaped and cut to a cell; "-" for NULL or "". */
static void cell_text(char *cell, const char *s)
{
    if (isempty(s))
        s = "-";
    terminal_escape(cell, MEM_CELL_SIZE, s, strlen(s));
}

static void cell_string(char *cell, json_object *o, const char *key)
{
    json_object *v = member(o, key, json_type_string);
    cell_text(cell, v ? json_object_get_string(v) : NULL);
}

/* An integer >= 0 (a count), or, when booleans are taken, a boolean as yes/no; else "-". */
static void cell_value(char *cell, json_object *v, bool booleans)
{
    if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0)
        snprintf(cell, MEM_CELL_SIZE, "%" PRIu64, json_object_get_uint64(v));
    else if (booleans && json_object_is_type(v, json_type_boolean))
        snprintf(cell, MEM_CELL_SIZE, "%s", json_object_get_boolean(v) ? "yes" : "no");
    else
        snprintf(cell, MEM_CELL_SIZE, "-");
}

static void cell_count(char *cell, json_object *o, const char *key)
{
    cell_value(cell, member(o, key, json_type_int), false);
}

/* Seconds since the epoch as local time with its zone ("2025-12-03 20:26:40 CET"), or "-". */
static void cell_time(char *cell, json_object *o, const char *key)
{
    json_object *v = member(o, key, json_type_int);
    int64_t sec = v ? json_object_get_int64(v) : 0;
    time_t t = (time_t) sec;
    struct tm tm;
    char zone[32];

    snprintf(cell, MEM_CELL_SIZE, "-");
    if (sec <= 0 || sec > MEM_TIME_MAX)
        return;
    format_timestamp_local(cell, MEM_CELL_SIZE, (usec_t) sec * USEC_PER_SEC, false);
    if (isempty(cell)) {
        snprintf(cell, MEM_CELL_SIZE, "-");
        return;
    }
    if (localtime_r(&t, &tm) && strftime(zone, sizeof(zone), "%Z", &tm) > 0) {
        size_t n = strlen(cell);
        snprintf(cell + n, MEM_CELL_SIZE - n, " %s", zone);
    }
}

/* ---- tables ---------------------------------------------------------------------------------- */

struct mem_table {
    const char *key; /* the member of details: an array of objects, one a row */
    size_t n_cols;
    const char *headers[MEM_COLS_MAX];
    bool right[MEM_COLS_MAX]; /* right-aligned (numbers) */
    void (*row)(json_object *entry, mem_row row);
    const char *empty; /* said when there is no row */
};

static void dimm_row(json_object *e, mem_row row)
{
    json_object *crossed = member(e, "crossed", json_type_boolean);

    cell_string(row[0], e, "dimm");
    cell_string(row[1], e, "label");
    cell_count(row[2], e, "corrected");
    cell_count(row[3], e, "uncorrected");
    cell_text(row[4], !crossed ? NULL : json_object_get_boolean(crossed) ? "over threshold" : "ok");
}

static void page_row(json_object *e, mem_row row)
{
    cell_string(row[0], e, "pfn");
    cell_string(row[1], e, "address");
    cell_count(row[2], e, "corrected");
    cell_string(row[3], e, "state");
    cell_string(row[4], e, "offline");
}

static void offlined_row(json_object *e, mem_row row)
{
    cell_string(row[0], e, "pfn");
    cell_string(row[1], e, "action");
    cell_string(row[2], e, "result");
    cell_time(row[3], e, "time");
}

static const struct mem_table mem_tables[] = {
    {"dimms",
     5,
     {"DIMM", "LABEL", "CE", "UE", "STATE"},
     {false, false, true, true, false},
     dimm_row,
     "no DIMM with errors"},
    {"pages",
     5,
     {"PFN", "ADDRESS", "CE", "STATE", "OFFLINE"},
     {false, false, true, false, false},
     page_row,
     "no page with errors"},
    {"offlined",
     4,
     {"PFN", "ACTION", "RESULT", "TIME"},
     {false, false, false, false},
     offlined_row,
     "no page offlined"},
};

/* One line of cells padded to the widths; the last cell is not padded. */
static void print_row(const struct mem_table *t, const int *w, const char *const *cells)
{
    char line[MEM_COLS_MAX * (MEM_CELL_SIZE + 2)];
    size_t n = 0;

    line[0] = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
        bool last = c + 1 == t->n_cols;
        n += (size_t) snprintf(line + n, sizeof(line) - n, t->right[c] ? "%*s%s" : "%-*s%s",
                               last && !t->right[c] ? 0 : w[c], cells[c], last ? "" : "  ");
    }
    ctl_print_line("%s", line);
}

static void print_table(json_object *details, const struct mem_table *t)
{
    json_object *list = NULL;
    size_t n, shown = 0, skipped = 0;
    int w[MEM_COLS_MAX];
    mem_row row;

    if (json_object_is_type(details, json_type_object) &&
        json_object_object_get_ex(details, t->key, &list) && list &&
        !json_object_is_type(list, json_type_array)) {
        ctl_print_line("%s: not a list, not shown (--json shows it)", t->key);
        return;
    }
    n = json_array_length(list);
    for (size_t c = 0; c < t->n_cols; c++)
        w[c] = (int) strlen(t->headers[c]);
    /* First the widths, then the rows: each row is formatted twice, nothing is kept. */
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        if (!json_object_is_type(e, json_type_object)) {
            skipped++;
            continue;
        }
        if (shown == MEM_ROWS_MAX)
            continue;
        t->row(e, row);
        for (size_t c = 0; c < t->n_cols; c++) {
            int l = (int) strlen(row[c]);
            w[c] = l > w[c] ? l : w[c];
        }
        shown++;
    }
    if (shown == 0)
        ctl_print_line("%s", t->empty);
    else {
        const char *cells[MEM_COLS_MAX];
        size_t printed = 0;

        print_row(t, w, t->headers);
        for (size_t i = 0; i < n && printed < shown; i++) {
            json_object *e = json_object_array_get_idx(list, i);
            if (!json_object_is_type(e, json_type_object))
                continue;
            t->row(e, row);
            for (size_t c = 0; c < t->n_cols; c++)
                cells[c] = row[c];
            print_row(t, w, cells);
            printed++;
        }
    }
    if (n - skipped > shown)
        ctl_print_line("... %zu more rows not shown (--json shows them all)", n - skipped - shown);
    if (skipped > 0)
        ctl_print_line("(%zu entries of %s that are not objects, not shown)", skipped, t->key);
}

/* ---- sources and counts ---------------------------------------------------------------------- */

/* "TASK: sources on: a, b; off: c (not in this kernel)": a source is on when its value is "on",
 * off otherwise, with the words after "off" (or the value itself, "-" when not a string). */
static void print_sources(const char *task, json_object *details)
{
    json_object *sources = member(details, "sources", json_type_object);
    _cleanup_free_ char *on = NULL, *off = NULL;
    size_t on_len = 0, off_len = 0, n_on = 0, n_off = 0;
    FILE *fon, *foff;

    if (!sources) {
        ctl_print_line("%s: sources: -", task);
        return;
    }
    fon = open_memstream(&on, &on_len);
    foff = fon ? open_memstream(&off, &off_len) : NULL;
    if (!foff) {
        if (fon)
            fclose(fon);
        fputs("sentryctl: out of memory\n", stderr);
        return;
    }
    json_object_object_foreach(sources, name, v)
    {
        const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
        char cname[MEM_CELL_SIZE], why[MEM_CELL_SIZE];

        if (n_on + n_off == MEM_ROWS_MAX)
            break;
        cell_text(cname, name);
        if (streq_ptr(s, "on")) {
            fprintf(fon, "%s%s", n_on++ ? ", " : "", cname);
            continue;
        }
        const char *rest = s ? startswith(s, "off") : NULL;
        if (rest && rest[0] && rest[0] != ' ')
            rest = NULL; /* "offline" is not "off" */
        s = rest ? rest + strspn(rest, " ") : s ? s : "-";
        /* "off (not in this kernel)" says why in parentheses already */
        if (s[0] == '(') {
            cell_text(why, s);
            fprintf(foff, "%s%s %s", n_off++ ? ", " : "", cname, why);
        } else if (s[0]) {
            cell_text(why, s);
            fprintf(foff, "%s%s (%s)", n_off++ ? ", " : "", cname, why);
        } else
            fprintf(foff, "%s%s", n_off++ ? ", " : "", cname);
    }
    int r_on = fclose(fon), r_off = fclose(foff);
    if (r_on != 0 || r_off != 0) {
        fputs("sentryctl: out of memory\n", stderr);
        return;
    }
    ctl_print_line("%s: sources on: %s; off: %s", task, n_on ? on : "none", n_off ? off : "none");
}

/* The counts the plugin reports, in this order; others it may add follow as they come. */
static const char *const count_names[] = {
    "events",
    "corrected",
    "uncorrected",
    "lost",
    "offlined",
    "offline_failed",
    "refused",
    "storms",
    "storm",
    "tracked_pages",
    "hardware_corrupted_kb",
};

static bool is_count_name(const char *name)
{
    for (size_t i = 0; i < ELEMENTSOF(count_names); i++)
        if (streq(count_names[i], name))
            return true;
    return false;
}

static void print_counts(json_object *details)
{
    json_object *counts = member(details, "counts", json_type_object), *v;
    char cell[MEM_CELL_SIZE], cname[MEM_CELL_SIZE];
    size_t lines = 0, more = 0;

    if (!counts) {
        ctl_print_line("Counts: -");
        return;
    }
    ctl_print_line("Counts:");
    for (size_t i = 0; i < ELEMENTSOF(count_names); i++) {
        /* storm is a flag, the others are counts */
        cell_value(cell, json_object_object_get_ex(counts, count_names[i], &v) ? v : NULL,
                   streq(count_names[i], "storm"));
        ctl_print_line("  %s: %s", count_names[i], cell);
    }
    json_object_object_foreach(counts, name, val)
    {
        if (is_count_name(name))
            continue;
        if (lines == MEM_ROWS_MAX) {
            more++;
            continue;
        }
        cell_text(cname, name);
        cell_value(cell, val, true);
        ctl_print_line("  %s: %s", cname, cell);
        lines++;
    }
    if (more > 0)
        ctl_print_line("  ... %zu more counts not shown (--json shows them all)", more);
}

/* ---- the command ----------------------------------------------------------------------------- */

static int cmd_mem(struct ctl *ctl, int argc, char **argv)
{
    static const char help[] =
        "Usage: sentryctl mem [TASK] [--json]\n\n"
        "Shows the memory errors mem_sentry saw, from its last result (what get_result shows):\n"
        "its event sources, on and off, the counts, the DIMMs with errors (CE, UE, over\n"
        "threshold or ok), the pages with errors and the pages it offlined.\n"
        "  TASK         another task that reports the same details (default mem_sentry)\n"
        "  -j, --json   the details of the result as JSON, as the task reported them\n";
    static const struct option opts[] = {CTL_COMMON_OPTIONS, {NULL, 0, NULL, 0}};
    _cleanup_json_ json_object *res = NULL;
    const char *name = MEM_TASK_DEFAULT;
    json_object *result, *details;
    bool done;
    int c, r;

    c = ctl_getopt(ctl, argc, argv, CTL_COMMON_SHORT, opts, help, &done);
    if (done)
        return c;
    if (c != -1)
        return EXIT_USAGE;
    if (argc - optind > 1)
        return ctl_usage_error(argv[0], "unrecognized arguments: %s", argv[optind + 1]);
    if (optind < argc) {
        name = argv[optind];
        if (ctl_check_task_arg(argv[0], name) != EXIT_OK)
            return EXIT_USAGE;
    }
    r = ctl_call_task(ctl, "get_result", name, &res);
    if (r != EXIT_OK)
        return r;
    result = member(res, "result", json_type_string);
    if (!result || isempty(json_object_get_string(result))) {
        char msg[512];
        snprintf(msg, sizeof(msg),
                 "task %s has no result yet (it reports one once it runs: sentryctl status %s)",
                 name, name);
        ctl_print_error(ctl, ENODATA, argv[0], msg);
        return EXIT_FAILED;
    }
    details = member(res, "details", json_type_object);
    if (ctl->json) {
        ctl_print_json(details);
        return EXIT_OK;
    }
    print_sources(name, details);
    printf("\n");
    print_counts(details);
    for (size_t i = 0; i < ELEMENTSOF(mem_tables); i++) {
        printf("\n");
        print_table(details, &mem_tables[i]);
    }
    return EXIT_OK;
}

const struct ctl_command mem_commands[] = {
    {"mem", cmd_mem, "[TASK]", "memory errors of mem_sentry: sources, counts, DIMMs, pages"},
    {NULL, NULL, NULL, NULL},
};
