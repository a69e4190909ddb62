/* trace_field.h: the fields of one trace record, read with their bounds checked. A record comes
 * from the kernel, but a format and a record may disagree (another kernel, a damaged buffer, a
 * test's bytes): a field that does not lie wholly inside the record is absent, never read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tep_event;
struct tep_record;

/* A number field of 1, 2, 4 or 8 bytes: its value, sign-extended when the format says signed.
 * 0, or -ENOENT when the event has no such field, -EBADMSG when it is outside the record or not
 * a number. */
int trace_field_int(struct tep_event *e, struct tep_record *r, const char *name, int64_t *ret);
int trace_field_uint(struct tep_event *e, struct tep_record *r, const char *name, uint64_t *ret);

/* A string field (char[N] or __data_loc char[]) as printable text in buf: stops at the first NUL,
 * every byte outside 0x20..0x7e becomes '?'; cut to size - 1. Same returns; buf is "" then. */
int trace_field_string(struct tep_event *e, struct tep_record *r, const char *name, char *buf,
                       size_t size);

/* The bytes of an array field (char[16], __data_loc u8[]): a pointer into the record and length. */
int trace_field_bytes(struct tep_event *e, struct tep_record *r, const char *name,
                      const uint8_t **ret, size_t *len);
