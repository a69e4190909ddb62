/* macro.h: the few macros every sentry C file may use.
 *
 * Cleanup attributes make every early return correct (systemd style), assert_return() checks the
 * arguments of public functions, and the string helpers keep comparisons readable. No allocation
 * and no control flow is hidden here beyond what the names say. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _unused_         __attribute__((unused))
#define _printf_(a, b)   __attribute__((format(printf, a, b)))
#define _noreturn_       __attribute__((noreturn))
#define _public_         __attribute__((visibility("default")))
#define _warn_unused_    __attribute__((warn_unused_result))
#define _likely_(x)      __builtin_expect(!!(x), 1)
#define _unlikely_(x)    __builtin_expect(!!(x), 0)
#define ELEMENTSOF(a)    (sizeof(a) / sizeof((a)[0]))
#define STRLEN(s)        (sizeof("" s "") - 1)
#define MIN(a, b)        ((a) < (b) ? (a) : (b))
#define MAX(a, b)        ((a) > (b) ? (a) : (b))
#define CLAMP(x, lo, hi) MIN(MAX((x), (lo)), (hi))
#define USEC_PER_SEC     1000000ULL
#define USEC_PER_MSEC    1000ULL
#define NSEC_PER_USEC    1000ULL

/* Returns -EINVAL from a public function when a precondition on its arguments fails. */
#define assert_return(expr, r)   \
    do {                         \
        if (_unlikely_(!(expr))) \
            return (r);          \
    } while (0)

/* Move ownership out of a cleanup variable. */
#define TAKE_PTR(p)              \
    ({                           \
        __typeof__(p) _p_ = (p); \
        (p) = NULL;              \
        _p_;                     \
    })
#define TAKE_FD(fd)      \
    ({                   \
        int _fd_ = (fd); \
        (fd) = -EBADF;   \
        _fd_;            \
    })

static inline void freep(void *p)
{
    free(*(void **) p);
}
static inline void closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
static inline void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_close_  _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Defines name##p(type **) that calls func(*p) when *p is not NULL. */
#define DEFINE_POINTER_CLEANUP(type, func) \
    static inline void func##p(type **p)   \
    {                                      \
        if (*p)                            \
            func(*p);                      \
    }

static inline bool streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}
static inline bool streq_ptr(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}
static inline bool isempty(const char *s)
{
    return !s || !*s;
}
/* Returns the rest of s after prefix, or NULL when s does not start with prefix. */
static inline const char *startswith(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}
static inline bool endswith(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}
static inline const char *strna(const char *s)
{
    return s ? s : "n/a";
}

/* Makes a negative errno out of an errno value of either sign. */
static inline int negative_errno(int e)
{
    return e > 0 ? -e : (e < 0 ? e : -EIO);
}
static inline int negative_errno_or_zero(int e)
{
    return e > 0 ? -e : e;
}
