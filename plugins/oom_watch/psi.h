/* psi.h: the pressure stall information of the kernel (Documentation/accounting/psi.rst): the
 * text of a pressure file and the triggers written to it. Pure: no file is opened here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line of a pressure file: "some avg10=0.12 avg60=0.05 avg300=0.00 total=12345". The
 * averages are percentages (0..100) with two decimals, total is µs of stall since boot. */
struct psi_line {
    bool present;
    double avg10, avg60, avg300;
    uint64_t total;
};

/* A pressure file: "some" always, "full" from 5.x on (cpu.pressure may lack it). */
struct psi_stats {
    struct psi_line some, full;
};

/* Parses the text of a pressure file (len bytes, need not be NUL-terminated). Lines other than
 * some/full are ignored (a newer kernel may add some); a some or full line that does not parse,
 * or an average outside 0..100, is -EBADMSG. At least "some" must be there. */
int psi_stats_parse(const char *text, size_t len, struct psi_stats *ret);

enum psi_kind {
    PSI_SOME,
    PSI_FULL,
    _PSI_KIND_MAX,
};
const char *psi_kind_to_string(enum psi_kind k); /* "some", "full" */

/* The kernel's bounds of a trigger window (psi.rst: 500 ms .. 10 s), and the rule for triggers
 * of unprivileged writers (a window that is a multiple of 2 s). */
#define PSI_WINDOW_MIN_US      500000U
#define PSI_WINDOW_MAX_US      10000000U
#define PSI_WINDOW_UNPRIV_STEP 2000000U

/* Writes "<kind> <stall_us> <window_us>" (what is written to the file) into buf. -EINVAL when
 * the window is out of bounds or the stall is 0 or longer than the window; -ENOBUFS when buf is
 * too small. */
int psi_trigger_format(enum psi_kind kind, unsigned stall_us, unsigned window_us, char *buf,
                       size_t size);
/* The window an unprivileged writer must use: window_us rounded up to a multiple of 2 s. */
unsigned psi_window_unprivileged(unsigned window_us);
