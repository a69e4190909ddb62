/* trace_field.c: see trace_field.h. */
#include <errno.h>
#include <event-parse.h>
#include <string.h>

#include "trace_field.h"

/* The field's bytes inside the record, following a __data_loc / __rel_loc when it is one. */
static int field_span(struct tep_event *e, struct tep_record *r, const char *name,
                      struct tep_format_field **retf, size_t *off, size_t *len)
{
    struct tep_format_field *f = e ? tep_find_field(e, name) : NULL;

    if (!f)
        return -ENOENT;
    if (f->offset < 0 || f->size <= 0 || !r || !r->data || r->size < 0 ||
        (size_t) f->offset + (size_t) f->size > (size_t) r->size)
        return -EBADMSG;
    *retf = f;
    *off = (size_t) f->offset;
    *len = (size_t) f->size;
    if (f->flags & TEP_FIELD_IS_DYNAMIC) {
        uint32_t loc;

        if (f->size != 4)
            return -EBADMSG;
        memcpy(&loc, (const uint8_t *) r->data + f->offset, sizeof(loc));
        /* low 16 bits: offset (from the record, or for __rel_loc from the end of the field);
         * high 16 bits: length */
        *off = (loc & 0xffff) + ((f->flags & TEP_FIELD_IS_RELATIVE) ? (size_t) f->offset + 4 : 0);
        *len = loc >> 16;
        if (*off + *len > (size_t) r->size)
            return -EBADMSG;
    }
    return 0;
}

static int field_number(struct tep_event *e, struct tep_record *r, const char *name, uint64_t *raw,
                        int *size, bool *is_signed)
{
    struct tep_format_field *f;
    size_t off, len;
    int k = field_span(e, r, name, &f, &off, &len);
    const uint8_t *p;

    if (k < 0)
        return k;
    if ((f->flags & (TEP_FIELD_IS_ARRAY | TEP_FIELD_IS_DYNAMIC | TEP_FIELD_IS_STRING)) ||
        (len != 1 && len != 2 && len != 4 && len != 8))
        return -EBADMSG;
    p = (const uint8_t *) r->data + off;
    switch (len) {
    case 1:
        *raw = p[0];
        break;
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        *raw = v;
        break;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        *raw = v;
        break;
    }
    default:
        memcpy(raw, p, 8);
    }
    *size = (int) len;
    *is_signed = f->flags & TEP_FIELD_IS_SIGNED;
    return 0;
}

int trace_field_uint(struct tep_event *e, struct tep_record *r, const char *name, uint64_t *ret)
{
    bool is_signed;
    int size;

    return field_number(e, r, name, ret, &size, &is_signed);
}

int trace_field_int(struct tep_event *e, struct tep_record *r, const char *name, int64_t *ret)
{
    uint64_t raw;
    bool is_signed;
    int size, k = field_number(e, r, name, &raw, &size, &is_signed);

    if (k < 0)
        return k;
    if (is_signed && size < 8 && (raw & (1ULL << (size * 8 - 1))))
        raw |= ~0ULL << (size * 8);
    *ret = (int64_t) raw;
    return 0;
}

int trace_field_bytes(struct tep_event *e, struct tep_record *r, const char *name,
                      const uint8_t **ret, size_t *len)
{
    struct tep_format_field *f;
    size_t off;
    int k = field_span(e, r, name, &f, &off, len);

    if (k < 0)
        return k;
    *ret = (const uint8_t *) r->data + off;
    return 0;
}

int trace_field_string(struct tep_event *e, struct tep_record *r, const char *name, char *buf,
                       size_t size)
{
    const uint8_t *p;
    size_t len, i;
    int k;

    if (!buf || size == 0)
        return -EINVAL;
    buf[0] = '\0';
    k = trace_field_bytes(e, r, name, &p, &len);
    if (k < 0)
        return k;
    for (i = 0; i < len && i + 1 < size && p[i]; i++)
        buf[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char) p[i] : '?';
    buf[i] = '\0';
    return 0;
}
