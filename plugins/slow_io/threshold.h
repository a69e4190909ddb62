/* threshold.h: the thresholds of ai_block_io.
 *
 * A threshold is either set explicitly (absolute) or learned from a training queue: the last
 * train_size samples (samples below 1e-6 are not samples: idle periods must not teach that 0 is
 * normal). The learned value is first computed when the queue first fills and then again after
 * every update_size new samples:
 *   boxplot: Q3 + k·(Q3 − Q1), percentiles interpolated linearly between order statistics (as
 *            numpy's default percentile);
 *   n_sigma: mean + n·σ with the population standard deviation.
 * Until the first computation the threshold is unset. threshold_push() and threshold_set() say
 * when the value was (re)computed, so the owner can re-tag what it judged with the old value. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

enum threshold_type {
    THRESHOLD_ABSOLUTE, /* set by threshold_set() only */
    THRESHOLD_BOXPLOT,
    THRESHOLD_N_SIGMA,
    _THRESHOLD_TYPE_MAX,
    _THRESHOLD_TYPE_INVALID = -EINVAL,
};
const char *threshold_type_to_string(enum threshold_type t); /* "absolute", "boxplot", "n_sigma" */
int threshold_type_from_string(const char *s);               /* enum value or -EINVAL */

/* Samples below this are ignored by the training queue. */
#define THRESHOLD_MIN_SAMPLE 1e-6

struct threshold;

/* parameter: k of boxplot or n of n_sigma (> 0; ignored for absolute). train_size and
 * update_size: ≥ 1 (ignored for absolute). The queue memory grows with the samples, up to
 * train_size doubles. */
int threshold_new(enum threshold_type type, double parameter, size_t train_size, size_t update_size,
                  struct threshold **ret);
struct threshold *threshold_free(struct threshold *t);
DEFINE_POINTER_CLEANUP(struct threshold, threshold_free)

enum threshold_type threshold_get_type(const struct threshold *t);

/* Sets the value explicitly (any type; the next learned update replaces it). Returns 1 when the
 * value changed or was unset, 0 when it was already that value. */
int threshold_set(struct threshold *t, double value);

/* Feeds one sample to the training queue. Returns 1 when this sample made the threshold be
 * (re)computed, 0 otherwise (also for ignored samples and absolute thresholds), -ENOMEM. */
int threshold_push(struct threshold *t, double sample);

bool threshold_is_set(const struct threshold *t);
/* The current value; -ENODATA while unset. */
int threshold_get(const struct threshold *t, double *ret);
/* value > threshold; false while unset. */
bool threshold_exceeded(const struct threshold *t, double value);

/* Samples in the training queue now (≤ train_size). */
size_t threshold_queue_length(const struct threshold *t);

/* The computations, exposed for tests and for whoever needs them on their own data. values
 * is not modified; n ≥ 1. -ENOMEM or -EINVAL. */
int boxplot_threshold_compute(const double *values, size_t n, double k, double *ret);
int n_sigma_threshold_compute(const double *values, size_t n, double n_sigma, double *ret);
/* Percentile p (0..100) of sorted values, linear interpolation. */
double percentile_sorted(const double *sorted, size_t n, double p);
