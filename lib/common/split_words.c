/* split_words.c: see split_words.h.
 *
 * A small state machine over the characters: outside a word, inside a word, inside '...' (all
 * literal), inside "..." (backslash escapes only \ and "). Adjacent quoted and unquoted parts join
 * into one word; '' gives an empty word. */
#include <stdbool.h>

#include "split_words.h"
#include "strv.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int split_words(const char *line, char ***ret, const char **error)
{
    _cleanup_strv_free_ char **argv = calloc(1, sizeof(char *));
    _cleanup_free_ char *word = NULL;
    size_t wlen = 0;
    bool in_word = false;
    const char *p = line;

    *error = NULL;
    if (!argv)
        return -ENOMEM;
    word = malloc(strlen(line) + 1);
    if (!word)
        return -ENOMEM;

    while (*p) {
        char c = *p++;
        if (is_blank(c)) {
            if (in_word) {
                word[wlen] = 0;
                if (strv_extend(&argv, word) < 0)
                    return -ENOMEM;
                wlen = 0;
                in_word = false;
            }
            continue;
        }
        in_word = true;
        if (c == '\\') {
            if (!*p) {
                *error = "No escaped character";
                return -EINVAL;
            }
            word[wlen++] = *p++;
        } else if (c == '\'') {
            while (*p && *p != '\'')
                word[wlen++] = *p++;
            if (!*p) {
                *error = "No closing quotation";
                return -EINVAL;
            }
            p++;
        } else if (c == '"') {
            while (*p && *p != '"') {
                if (*p == '\\' && (p[1] == '\\' || p[1] == '"'))
                    p++;
                word[wlen++] = *p++;
            }
            if (!*p) {
                *error = "No closing quotation";
                return -EINVAL;
            }
            p++;
        } else
            word[wlen++] = c;
    }
    if (in_word) {
        word[wlen] = 0;
        if (strv_extend(&argv, word) < 0)
            return -ENOMEM;
    }
    *ret = TAKE_PTR(argv);
    return 0;
}
