/* split_words.h: split a command line into argv the way a POSIX shell splits words (the rules of
 * Python's shlex.split, which the reference uses). Quotes and backslashes are honoured; nothing is
 * expanded and no shell is ever run. */
#pragma once

/* On success *ret is a NULL-terminated argv (possibly empty) and 0 is returned.
 * -EINVAL with *error set to a static message on an unterminated quote or a trailing backslash. */
int split_words(const char *line, char ***ret, const char **error);
