/* env_file.c: see env_file.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "env_file.h"
#include "macro.h"
#include "strv.h"

static bool env_name_is_valid(const char *s)
{
    if (!*s || isdigit((unsigned char) *s))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char) *s) && *s != '_')
            return false;
    return true;
}

static char *strip(char *s)
{
    while (isspace((unsigned char) *s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char) s[n - 1]))
        s[--n] = 0;
    return s;
}

int env_file_apply(const char *text, char ***env, char **warning)
{
    _cleanup_free_ char *copy = strdup(text);
    unsigned lineno = 0;

    *warning = NULL;
    if (!copy)
        return -ENOMEM;
    /* strsep keeps empty lines so that line numbers stay right. */
    for (char *p = copy, *line; (line = strsep(&p, "\n"));) {
        lineno++;
        line = strip(line);
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *key = strip(line), *value = strip(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = 0;
            value++;
        }
        if (!*key || !*value) {
            /* the line that stops the reading says more than a skipped name before it */
            free(*warning);
            if (asprintf(warning,
                         "line %u: format is error, use default environ (empty %s); "
                         "the lines after it are ignored",
                         lineno, *key ? "value" : "key") < 0)
                *warning = NULL;
            return 0;
        }
        if (!env_name_is_valid(key)) {
            if (!*warning &&
                asprintf(warning, "line %u: '%s' is not a variable name, skipped", lineno, key) < 0)
                *warning = NULL;
            continue;
        }
        if (strv_env_set(env, key, value) < 0)
            return -ENOMEM;
    }
    return 0;
}
