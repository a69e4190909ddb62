/* sliding_window.h: the sliding windows of ai_block_io.
 *
 * A window keeps the last `size` values of one metric and a tag per value saying whether that
 * period was abnormal. A value is tagged by these rules, first match wins:
 *   1. avg_lim is set and value < avg_lim      -> normal (too fast to matter);
 *   2. the AI threshold is set and value > it  -> abnormal;
 *   3. abs_threshold is set and value > it     -> abnormal;
 *   otherwise normal.
 * Whenever a limit changes every stored value is tagged again, so the window always judges its
 * contents by the current threshold. Whether the window means slow IO depends on its type:
 *   not_continuous: at least `threshold` tags are abnormal;
 *   continuous:     at least `threshold` consecutive tags are abnormal;
 *   median:         the median of the values exceeds the AI threshold or abs_threshold.
 * None of them waits for the window to be full. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

enum window_type {
    WINDOW_NOT_CONTINUOUS,
    WINDOW_CONTINUOUS,
    WINDOW_MEDIAN,
    _WINDOW_TYPE_MAX,
    _WINDOW_TYPE_INVALID = -EINVAL,
};
const char *
window_type_to_string(enum window_type t);  /* "not_continuous", "continuous", "median" */
int window_type_from_string(const char *s); /* enum value or -EINVAL */

struct sliding_window;

/* size ≥ 1; threshold ≥ 1 (unused by median windows). Every limit starts unset. */
int sliding_window_new(enum window_type type, size_t size, size_t threshold,
                       struct sliding_window **ret);
struct sliding_window *sliding_window_free(struct sliding_window *w);
DEFINE_POINTER_CLEANUP(struct sliding_window, sliding_window_free)

/* Limits; each call re-tags the stored values. */
int sliding_window_set_ai_threshold(struct sliding_window *w, double value);
int sliding_window_set_abs_threshold(struct sliding_window *w, double value);
int sliding_window_set_avg_lim(struct sliding_window *w, double value);

/* Appends a value (dropping the oldest when full) and judges the window. Returns 1 when the
 * window now means slow IO, 0 when not. *ret_abnormal (may be NULL) gets the tag of value. */
int sliding_window_push(struct sliding_window *w, double value, bool *ret_abnormal);

/* The judgement of the current contents, as the last push returned it. */
bool sliding_window_is_slow(const struct sliding_window *w);

enum window_type sliding_window_get_type(const struct sliding_window *w);
size_t sliding_window_length(const struct sliding_window *w); /* values held, ≤ size */
size_t sliding_window_abnormal_count(const struct sliding_window *w);
/* Copies up to n values, oldest first; returns how many were copied. tags may be NULL. */
size_t sliding_window_get_values(const struct sliding_window *w, double *values, bool *tags,
                                 size_t n);
