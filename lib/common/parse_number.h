/* parse_number.h: strict number parsing for configuration values and protocol fields. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Parses an integer the way Python's int(str) does (the reference parses .mod values with it):
 * surrounding whitespace and one sign allowed, decimal digits, single '_' between digits.
 * "0x10", "12.5", "" and " " are rejected. -EINVAL when not an integer, -ERANGE outside int64. */
int parse_int_python(const char *s, int64_t *ret);

/* Only decimal digits, no sign, no whitespace (the "isdigit" rule of some reference configs). */
int parse_uint_digits(const char *s, uint64_t *ret);

/* A finite double, surrounding whitespace allowed. */
int parse_double(const char *s, double *ret);

/* yes/no style booleans: yes/no, true/false, on/off, 1/0 (case-insensitive). */
int parse_boolean(const char *s, bool *ret);
