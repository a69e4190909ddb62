/* strv.c: see strv.h. */
#include <stdio.h>

#include "strv.h"

char **strv_free(char **l)
{
    if (!l)
        return NULL;
    for (char **p = l; *p; p++)
        free(*p);
    free(l);
    return NULL;
}

size_t strv_length(char *const *l)
{
    size_t n = 0;
    while (l && l[n])
        n++;
    return n;
}

int strv_consume(char ***l, char *s)
{
    size_t n = strv_length(*l);
    char **nl;

    if (!s)
        return -ENOMEM;
    nl = realloc(*l, sizeof(char *) * (n + 2));
    if (!nl) {
        free(s);
        return -ENOMEM;
    }
    nl[n] = s;
    nl[n + 1] = NULL;
    *l = nl;
    return 0;
}

int strv_extend(char ***l, const char *s)
{
    return strv_consume(l, strdup(s));
}

char **strv_copy(char *const *l)
{
    _cleanup_strv_free_ char **c = calloc(1, sizeof(char *));
    if (!c)
        return NULL;
    for (size_t i = 0; l && l[i]; i++)
        if (strv_extend(&c, l[i]) < 0)
            return NULL;
    return TAKE_PTR(c);
}

char *strv_join(char *const *l, const char *sep)
{
    size_t total = 1, ls = strlen(sep);
    char *r, *p;

    for (size_t i = 0; l && l[i]; i++)
        total += strlen(l[i]) + (i > 0 ? ls : 0);
    r = p = malloc(total);
    if (!r)
        return NULL;
    *p = 0;
    for (size_t i = 0; l && l[i]; i++) {
        if (i > 0)
            p = stpcpy(p, sep);
        p = stpcpy(p, l[i]);
    }
    return r;
}

int strv_env_find(char *const *env, const char *key)
{
    size_t kl = strlen(key);
    for (size_t i = 0; env && env[i]; i++)
        if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
            return (int) i;
    return -1;
}

int strv_env_set(char ***env, const char *key, const char *value)
{
    char *kv;
    int i;

    if (asprintf(&kv, "%s=%s", key, value) < 0)
        return -ENOMEM;
    i = strv_env_find(*env, key);
    if (i >= 0) {
        free((*env)[i]);
        (*env)[i] = kv;
        return 0;
    }
    return strv_consume(env, kv);
}

void strv_env_unset(char **env, const char *key)
{
    int i = strv_env_find(env, key);
    if (i < 0)
        return;
    free(env[i]);
    for (char **p = env + i; *p; p++)
        p[0] = p[1];
}

void strv_remove(char **l, const char *s)
{
    char **w = l;
    for (char **r = l; r && *r; r++) {
        if (streq(*r, s))
            free(*r);
        else
            *w++ = *r;
    }
    if (w)
        *w = NULL;
}

bool strv_contains(char *const *l, const char *s)
{
    for (size_t i = 0; l && l[i]; i++)
        if (streq(l[i], s))
            return true;
    return false;
}
