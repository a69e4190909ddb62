/* threshold.c: absolute, boxplot and n-sigma thresholds over a bounded training queue (see
 * threshold.h). The queue is a ring that grows on demand up to train_size, so a detector that
 * sees few non-idle samples costs little memory. */
#include <assert.h>
#include <math.h>
#include <stdint.h>

#include "threshold.h"
#include "string_table.h"

struct threshold {
    enum threshold_type type;
    double parameter; /* k or n */
    size_t train_size, update_size;

    double *queue;      /* ring; contiguous from 0 until the first wrap */
    size_t allocated;   /* entries in queue */
    size_t length;      /* samples held, ≤ train_size */
    size_t head;        /* oldest sample once length == train_size */
    size_t new_samples; /* samples since the last computation */

    bool set;
    double value;
};

static const char *const threshold_type_table[_THRESHOLD_TYPE_MAX] = {
    [THRESHOLD_ABSOLUTE] = "absolute",
    [THRESHOLD_BOXPLOT] = "boxplot",
    [THRESHOLD_N_SIGMA] = "n_sigma",
};

DEFINE_STRING_TABLE_LOOKUP(threshold_type, enum threshold_type, threshold_type_table,
                           _THRESHOLD_TYPE_MAX)

int threshold_new(enum threshold_type type, double parameter, size_t train_size, size_t update_size,
                  struct threshold **ret)
{
    struct threshold *t;

    assert_return(ret, -EINVAL);
    assert_return((unsigned) type < _THRESHOLD_TYPE_MAX, -EINVAL);
    if (type != THRESHOLD_ABSOLUTE) {
        assert_return(isfinite(parameter) && parameter > 0, -EINVAL);
        assert_return(train_size >= 1 && update_size >= 1, -EINVAL);
        assert_return(train_size <= SIZE_MAX / sizeof(double), -EINVAL);
    }

    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->type = type;
    t->parameter = parameter;
    t->train_size = train_size;
    t->update_size = update_size;
    *ret = t;
    return 0;
}

struct threshold *threshold_free(struct threshold *t)
{
    if (t) {
        free(t->queue);
        free(t);
    }
    return NULL;
}

enum threshold_type threshold_get_type(const struct threshold *t)
{
    assert_return(t, _THRESHOLD_TYPE_INVALID);
    return t->type;
}

int threshold_set(struct threshold *t, double value)
{
    assert_return(t, -EINVAL);
    assert_return(!isnan(value), -EINVAL);
    if (t->set && t->value == value)
        return 0;
    t->value = value;
    t->set = true;
    return 1;
}

bool threshold_is_set(const struct threshold *t)
{
    return t && t->set;
}

int threshold_get(const struct threshold *t, double *ret)
{
    assert_return(t && ret, -EINVAL);
    if (!t->set)
        return -ENODATA;
    *ret = t->value;
    return 0;
}

bool threshold_exceeded(const struct threshold *t, double value)
{
    return t && t->set && value > t->value;
}

size_t threshold_queue_length(const struct threshold *t)
{
    return t ? t->length : 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

double percentile_sorted(const double *sorted, size_t n, double p)
{
    double pos, gamma, a, b, diff;
    size_t lo, hi;

    assert(sorted && n > 0);
    pos = p / 100.0 * (double) (n - 1);
    lo = (size_t) floor(pos);
    if (lo > n - 1)
        lo = n - 1;
    hi = MIN(lo + 1, n - 1);
    gamma = pos - (double) lo;
    a = sorted[lo];
    b = sorted[hi];
    diff = b - a;
    /* Interpolate from the nearer end, as numpy does, so results match it to the last bit. */
    return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

int boxplot_threshold_compute(const double *values, size_t n, double k, double *ret)
{
    _cleanup_free_ double *sorted = NULL;
    double q1, q3;

    assert_return(values && n > 0 && ret, -EINVAL);
    sorted = malloc(n * sizeof(double));
    if (!sorted)
        return -ENOMEM;
    memcpy(sorted, values, n * sizeof(double));
    qsort(sorted, n, sizeof(double), cmp_double);
    q1 = percentile_sorted(sorted, n, 25);
    q3 = percentile_sorted(sorted, n, 75);
    *ret = q3 + k * (q3 - q1);
    return 0;
}

int n_sigma_threshold_compute(const double *values, size_t n, double n_sigma, double *ret)
{
    double sum = 0, mean, sq = 0;

    assert_return(values && n > 0 && ret, -EINVAL);
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    mean = sum / (double) n;
    for (size_t i = 0; i < n; i++)
        sq += (values[i] - mean) * (values[i] - mean);
    *ret = mean + n_sigma * sqrt(sq / (double) n);
    return 0;
}

static int threshold_recompute(struct threshold *t)
{
    _cleanup_free_ double *ordered = NULL;
    double v;
    int r;

    /* Oldest first, so sums run in arrival order whatever the ring position. */
    ordered = malloc(t->length * sizeof(double));
    if (!ordered)
        return -ENOMEM;
    for (size_t i = 0; i < t->length; i++)
        ordered[i] = t->queue[(t->head + i) % t->length];

    if (t->type == THRESHOLD_BOXPLOT)
        r = boxplot_threshold_compute(ordered, t->length, t->parameter, &v);
    else
        r = n_sigma_threshold_compute(ordered, t->length, t->parameter, &v);
    if (r < 0)
        return r;
    t->value = v;
    t->set = true;
    return 0;
}

static int threshold_queue_append(struct threshold *t, double sample)
{
    if (t->length < t->train_size) {
        if (t->length == t->allocated) {
            size_t n = MIN(MAX(t->allocated * 2, (size_t) 64), t->train_size);
            double *q = realloc(t->queue, n * sizeof(double));
            if (!q)
                return -ENOMEM;
            t->queue = q;
            t->allocated = n;
        }
        t->queue[t->length++] = sample;
        return 0;
    }
    t->queue[t->head] = sample;
    t->head = (t->head + 1) % t->train_size;
    return 0;
}

int threshold_push(struct threshold *t, double sample)
{
    int r;

    assert_return(t, -EINVAL);
    if (t->type == THRESHOLD_ABSOLUTE || !isfinite(sample) || sample < THRESHOLD_MIN_SAMPLE)
        return 0;

    r = threshold_queue_append(t, sample);
    if (r < 0)
        return r;
    t->new_samples++;

    if (t->length < t->train_size)
        return 0;
    if (t->set && t->new_samples < t->update_size)
        return 0;
    r = threshold_recompute(t);
    if (r < 0)
        return r;
    t->new_samples = 0;
    return 1;
}
