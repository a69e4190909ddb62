/* sliding_window.c: value windows with abnormal tags and the three slow-IO judgements (see
 * sliding_window.h). Values and tags live in two rings of the window's size. */
#include <assert.h>
#include <math.h>
#include <stdint.h>

#include "sliding_window.h"
#include "string_table.h"

struct sliding_window {
    enum window_type type;
    size_t size, threshold;

    double *values; /* ring of size entries */
    bool *tags;
    size_t length; /* values held */
    size_t head;   /* oldest value once full */

    bool has_ai, has_abs, has_avg_lim;
    double ai, abs, avg_lim;

    double *scratch; /* median windows: room to sort a copy of the values */
    bool slow;       /* judgement after the last change */
};

static const char *const window_type_table[_WINDOW_TYPE_MAX] = {
    [WINDOW_NOT_CONTINUOUS] = "not_continuous",
    [WINDOW_CONTINUOUS] = "continuous",
    [WINDOW_MEDIAN] = "median",
};

DEFINE_STRING_TABLE_LOOKUP(window_type, enum window_type, window_type_table, _WINDOW_TYPE_MAX)

int sliding_window_new(enum window_type type, size_t size, size_t threshold,
                       struct sliding_window **ret)
{
    _cleanup_(sliding_window_freep) struct sliding_window *w = NULL;

    assert_return(ret, -EINVAL);
    assert_return((unsigned) type < _WINDOW_TYPE_MAX, -EINVAL);
    assert_return(size >= 1 && size <= SIZE_MAX / sizeof(double), -EINVAL);
    assert_return(threshold >= 1, -EINVAL);

    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->type = type;
    w->size = size;
    w->threshold = threshold;
    w->values = calloc(size, sizeof(double));
    w->tags = calloc(size, sizeof(bool));
    if (type == WINDOW_MEDIAN)
        w->scratch = calloc(size, sizeof(double));
    if (!w->values || !w->tags || (type == WINDOW_MEDIAN && !w->scratch))
        return -ENOMEM;
    *ret = TAKE_PTR(w);
    return 0;
}

struct sliding_window *sliding_window_free(struct sliding_window *w)
{
    if (w) {
        free(w->values);
        free(w->tags);
        free(w->scratch);
        free(w);
    }
    return NULL;
}

static size_t ring_index(const struct sliding_window *w, size_t i)
{
    return (w->head + i) % w->size;
}

static bool value_is_abnormal(const struct sliding_window *w, double v)
{
    if (w->has_avg_lim && v < w->avg_lim)
        return false;
    if (w->has_ai && v > w->ai)
        return true;
    if (w->has_abs && v > w->abs)
        return true;
    return false;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Median of the held values; the mean of the two middle ones for an even count. */
static double window_median(const struct sliding_window *w)
{
    size_t n = w->length;

    assert(n > 0 && w->scratch);
    for (size_t i = 0; i < n; i++)
        w->scratch[i] = w->values[ring_index(w, i)];
    qsort(w->scratch, n, sizeof(double), cmp_double);
    if (n % 2)
        return w->scratch[n / 2];
    return (w->scratch[n / 2 - 1] + w->scratch[n / 2]) / 2.0;
}

static bool window_judge(const struct sliding_window *w)
{
    size_t count = 0, run = 0;
    double m;

    switch (w->type) {
    case WINDOW_NOT_CONTINUOUS:
        for (size_t i = 0; i < w->length; i++)
            count += w->tags[ring_index(w, i)];
        return count >= w->threshold;
    case WINDOW_CONTINUOUS:
        for (size_t i = 0; i < w->length; i++) {
            run = w->tags[ring_index(w, i)] ? run + 1 : 0;
            if (run >= w->threshold)
                return true;
        }
        return false;
    case WINDOW_MEDIAN:
        if (w->length == 0)
            return false;
        m = window_median(w);
        return (w->has_ai && m > w->ai) || (w->has_abs && m > w->abs);
    default:
        assert(false);
        return false;
    }
}

static void window_retag(struct sliding_window *w)
{
    for (size_t i = 0; i < w->length; i++) {
        size_t k = ring_index(w, i);
        w->tags[k] = value_is_abnormal(w, w->values[k]);
    }
    w->slow = window_judge(w);
}

int sliding_window_set_ai_threshold(struct sliding_window *w, double value)
{
    assert_return(w && !isnan(value), -EINVAL);
    w->has_ai = true;
    w->ai = value;
    window_retag(w);
    return 0;
}

int sliding_window_set_abs_threshold(struct sliding_window *w, double value)
{
    assert_return(w && !isnan(value), -EINVAL);
    w->has_abs = true;
    w->abs = value;
    window_retag(w);
    return 0;
}

int sliding_window_set_avg_lim(struct sliding_window *w, double value)
{
    assert_return(w && !isnan(value), -EINVAL);
    w->has_avg_lim = true;
    w->avg_lim = value;
    window_retag(w);
    return 0;
}

int sliding_window_push(struct sliding_window *w, double value, bool *ret_abnormal)
{
    size_t k;

    assert_return(w && !isnan(value), -EINVAL);
    if (w->length < w->size)
        k = w->length++;
    else {
        k = w->head;
        w->head = (w->head + 1) % w->size;
    }
    w->values[k] = value;
    w->tags[k] = value_is_abnormal(w, value);
    w->slow = window_judge(w);
    if (ret_abnormal)
        *ret_abnormal = w->tags[k];
    return w->slow;
}

bool sliding_window_is_slow(const struct sliding_window *w)
{
    return w && w->slow;
}

enum window_type sliding_window_get_type(const struct sliding_window *w)
{
    assert_return(w, _WINDOW_TYPE_INVALID);
    return w->type;
}

size_t sliding_window_length(const struct sliding_window *w)
{
    return w ? w->length : 0;
}

size_t sliding_window_abnormal_count(const struct sliding_window *w)
{
    size_t count = 0;

    for (size_t i = 0; w && i < w->length; i++)
        count += w->tags[ring_index(w, i)];
    return count;
}

size_t sliding_window_get_values(const struct sliding_window *w, double *values, bool *tags,
                                 size_t n)
{
    size_t m;

    if (!w)
        return 0;
    m = MIN(n, w->length);
    for (size_t i = 0; i < m; i++) {
        size_t k = ring_index(w, i);
        if (values)
            values[i] = w->values[k];
        if (tags)
            tags[i] = w->tags[k];
    }
    return m;
}
