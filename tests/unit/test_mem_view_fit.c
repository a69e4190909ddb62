/* test_mem_view_fit: the view within one protocol line: a view that fits is left alone; one that
 * does not loses rows from the end of its longest tables first and says how many; a view too big
 * without any row is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "mem_view_fit.h"

static const char *const tables[] = {"dimms", "pages", NULL};

static json_object *view(int dimms, int pages, size_t label)
{
    json_object *d = json_object_new_object(), *a = json_object_new_array(),
                *b = json_object_new_array();
    char text[512];

    memset(text, 'x', label);
    text[label] = '\0';
    for (int i = 0; i < dimms; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "dimm", json_object_new_int(i));
        json_object_object_add(e, "label", json_object_new_string(text));
        json_object_array_add(a, e);
    }
    for (int i = 0; i < pages; i++)
        json_object_array_add(b, json_object_new_int(i));
    json_object_object_add(d, "dimms", a);
    json_object_object_add(d, "pages", b);
    json_object_object_add(d, "counts", json_object_new_string(text));
    return d;
}

static size_t size(json_object *d)
{
    return strlen(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
}

static void test_fits(void **state)
{
    json_object *d = view(3, 3, 10);
    size_t before = size(d);

    assert_int_equal(mem_view_fit(d, tables, 4096), 0);
    assert_int_equal(size(d), before);
    assert_null(json_object_object_get(d, "rows_dropped"));
    json_object_put(d);
}

static void test_longest_table_loses_rows_first(void **state)
{
    json_object *d = view(256, 64, 200);
    int n;

    assert_true(size(d) > 30000);
    n = mem_view_fit(d, tables, 30000);
    assert_true(n > 0);
    assert_true(size(d) <= 30000);
    assert_int_equal(json_object_get_int(json_object_object_get(d, "rows_dropped")), n);
    /* the DIMM rows are the long ones: the short page rows are all still there */
    assert_int_equal(json_object_array_length(json_object_object_get(d, "pages")), 64);
    assert_int_equal(json_object_array_length(json_object_object_get(d, "dimms")), 256 - n);
    /* the first rows stay */
    json_object *first = json_object_array_get_idx(json_object_object_get(d, "dimms"), 0);
    assert_int_equal(json_object_get_int(json_object_object_get(first, "dimm")), 0);
    json_object_put(d);
}

static void test_too_big_without_rows(void **state)
{
    json_object *d = view(4, 4, 500);

    assert_int_equal(mem_view_fit(d, tables, 300), -E2BIG);
    assert_int_equal(json_object_array_length(json_object_object_get(d, "dimms")), 0);
    json_object_put(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fits),
        cmocka_unit_test(test_longest_table_loses_rows_first),
        cmocka_unit_test(test_too_big_without_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
