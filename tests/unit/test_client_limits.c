/* test_client_limits: who gets a connection slot: max_clients for all, max_clients_per_uid for
 * each uid but root, a reserve that only root and sentryd's own tasks may take; and how a task
 * is recognised (its chain of parents reaches sentryd), with real processes. The native parser's
 * refusal of numbers that do not fit 64 bits is here too (request_parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client_limits.h"
#include "request_parse.h"

static pid_t own_task_pid = -1;

static bool stub_is_own(pid_t pid, void *userdata)
{
    unsigned *asked = userdata;
    (*asked)++;
    return pid == own_task_pid;
}

static void test_limits(void **state)
{
    struct client_limits l;
    struct client_limits_config c = {.max_clients = 16, .per_uid = 8, .reserved = 4};
    struct client_slot slots[64];
    unsigned n = 0, asked = 0;
    const char *why;

    client_limits_init(&l, &c);
    l.is_own_process = stub_is_own;
    l.userdata = &asked;
    own_task_pid = 4242;
    assert_int_equal(client_limits_shared(&l), 12);

    /* one user: 8, then refused for its uid */
    for (int i = 0; i < 8; i++)
        assert_int_equal(client_limits_admit(&l, 65534, 100, &slots[n++], &why), 0);
    assert_int_equal(asked, 0); /* nobody's ancestry is read while there is room */
    assert_int_equal(client_limits_admit(&l, 65534, 100, &slots[n], &why), -EUSERS);
    assert_non_null(strstr(why, "max_clients_per_uid"));
    /* a second user fills the shared part */
    for (int i = 0; i < 4; i++)
        assert_int_equal(client_limits_admit(&l, 1000, 101, &slots[n++], &why), 0);
    assert_int_equal(client_limits_admit(&l, 1000, 101, &slots[n], &why), -EUSERS);
    assert_non_null(strstr(why, "reserved_clients"));
    /* the reserve: a task of sentryd running as the first user, and root */
    assert_int_equal(client_limits_admit(&l, 65534, own_task_pid, &slots[n], &why), 0);
    assert_true(slots[n++].privileged);
    assert_int_equal(client_limits_admit(&l, 0, 1, &slots[n], &why), 0);
    assert_true(slots[n++].privileged);
    assert_int_equal(client_limits_admit(&l, 0, 1, &slots[n++], &why), 0);
    assert_int_equal(client_limits_admit(&l, 0, 1, &slots[n++], &why), 0);
    assert_int_equal(l.n_total, 16);
    /* full: even root waits */
    assert_int_equal(client_limits_admit(&l, 0, 1, &slots[n], &why), -EUSERS);
    assert_non_null(strstr(why, "max_clients"));
    /* a user's connection goes: that user may connect again, and only that user's count moved */
    client_limits_release(&l, &slots[0]);
    client_limits_release(&l, &slots[0]); /* a second release is a no-op */
    assert_int_equal(client_limits_count_uid(&l, 65534), 7);
    assert_int_equal(client_limits_admit(&l, 65534, 100, &slots[0], &why), 0);
    for (unsigned i = 0; i < n; i++)
        client_limits_release(&l, &slots[i]);
    assert_int_equal(l.n_total, 0);
    assert_int_equal(l.n_shared, 0);
    assert_int_equal(l.n_uids, 0);
    client_limits_done(&l);
}

static void test_small_and_unlimited(void **state)
{
    struct client_limits l;
    struct client_slot s[4];
    const char *why;

    /* max_clients 2: at most half is reserved, so a user still gets one */
    client_limits_init(&l, &(struct client_limits_config){.max_clients = 2, .reserved = 64});
    l.is_own_process = NULL;
    assert_int_equal(client_limits_shared(&l), 1);
    assert_int_equal(client_limits_admit(&l, 5, 1, &s[0], &why), 0);
    assert_int_equal(client_limits_admit(&l, 6, 1, &s[1], &why), -EUSERS);
    assert_int_equal(client_limits_admit(&l, 0, 1, &s[1], &why), 0);
    client_limits_release(&l, &s[0]);
    client_limits_release(&l, &s[1]);
    client_limits_done(&l);
}

static void test_descends(void **state)
{
    int go[2];
    assert_int_equal(pipe(go), 0);
    /* parent -> child -> grandchild */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pid_t g = fork();
        if (g == 0) {
            char c;
            _exit(read(go[0], &c, 1) == 1 ? 0 : 1);
        }
        waitpid(g, NULL, 0);
        _exit(0);
    }
    /* the grandchild: the child's only child */
    pid_t grandchild = 0;
    for (int i = 0; i < 200 && grandchild == 0; i++) {
        char path[64], buf[256];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) child, (int) child);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(buf, sizeof(buf), f))
                grandchild = (pid_t) atoi(buf);
            fclose(f);
        }
        if (!grandchild)
            usleep(10000);
    }
    assert_true(grandchild > 0);
    assert_true(process_descends_from("/proc", grandchild, getpid()));
    assert_true(process_descends_from("/proc", child, getpid()));
    assert_false(process_descends_from("/proc", getpid(), getpid())); /* itself: no */
    assert_false(process_descends_from("/proc", getppid(), getpid()));
    assert_false(process_descends_from("/proc", 1, getpid()));
    assert_false(process_descends_from("/proc", 999999999, getpid()));
    assert_false(process_descends_from("/nonexistent", child, getpid()));
    assert_int_equal(write(go[1], "x", 1), 1);
    waitpid(child, NULL, 0);
    close(go[0]);
    close(go[1]);
}

static void test_cgroup(void **state)
{
    char cg[1024];

    assert_true(cgroup_is_below("/system.slice/sentryd.service/sentry-tasks/t1",
                                "/system.slice/sentryd.service"));
    assert_false(cgroup_is_below("/system.slice/sentryd.service", "/system.slice/sentryd.service"));
    assert_false(
        cgroup_is_below("/system.slice/sentryd.service2/x", "/system.slice/sentryd.service"));
    assert_false(
        cgroup_is_below("/system.slice/sentryd.service/", "/system.slice/sentryd.service"));
    assert_false(cgroup_is_below("/user.slice/x", "/")); /* everyone is below the root */
    assert_false(cgroup_is_below("/user.slice/x", ""));
    /* this process has one (cgroup v2 is what sentryd supports) */
    if (process_cgroup("/proc", getpid(), cg, sizeof(cg)) == 0)
        assert_true(cg[0] == '/');
    assert_true(process_cgroup("/proc", 999999999, cg, sizeof(cg)) < 0);
}

static int parse_line(const char *line, struct parsed_request *p)
{
    json_tokener *tok = json_tokener_new_ex(32);
    char why[256];
    int e = request_parse(tok, line, strlen(line), p, why, sizeof(why));
    json_tokener_free(tok);
    return e;
}

static void test_numbers_out_of_range(void **state)
{
    struct parsed_request p;

    assert_int_equal(parse_line("{\"id\":99999999999999999999,\"verb\":\"hello\"}", &p), EBADMSG);
    assert_string_equal(p.id, "null");
    json_object_put(p.msg);
    assert_int_equal(parse_line("{\"id\":-9223372036854775809,\"verb\":\"hello\"}", &p), EBADMSG);
    json_object_put(p.msg);
    assert_int_equal(parse_line("{\"id\":1,\"verb\":\"x\",\"time\":18446744073709551616}", &p),
                     EBADMSG);
    json_object_put(p.msg);
    /* what fits is kept exactly */
    assert_int_equal(parse_line("{\"id\":18446744073709551615,\"verb\":\"hello\"}", &p), 0);
    assert_string_equal(p.id, "18446744073709551615");
    json_object_put(p.msg);
    assert_int_equal(parse_line("{\"id\":-9223372036854775808,\"verb\":\"hello\"}", &p), 0);
    assert_string_equal(p.id, "-9223372036854775808");
    json_object_put(p.msg);
    /* the check itself: strings are skipped, escapes too */
    const char *fit[] = {"{\"a\":\"99999999999999999999\"}", "{\"a\":\"\\\"99999999999999999999\"}",
                         "[0,-0,1.5e300,-9223372036854775808,18446744073709551615]", "[1e-400]"};
    const char *unfit[] = {"[18446744073709551616]", "[-9223372036854775809]", "[1e400]",
                           "{\"a\":\"\\\\\",\"b\":99999999999999999999}"};
    for (size_t i = 0; i < sizeof(fit) / sizeof(fit[0]); i++)
        if (!json_text_numbers_fit(fit[i], strlen(fit[i])))
            fail_msg("%s refused", fit[i]);
    for (size_t i = 0; i < sizeof(unfit) / sizeof(unfit[0]); i++)
        if (json_text_numbers_fit(unfit[i], strlen(unfit[i])))
            fail_msg("%s accepted", unfit[i]);
    /* a verb with a NUL inside is no verb */
    assert_int_equal(parse_line("{\"id\":2,\"verb\":\"hello\\u0000x\"}", &p), EINVAL);
    assert_string_equal(p.id, "2");
    json_object_put(p.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_small_and_unlimited),
        cmocka_unit_test(test_descends),
        cmocka_unit_test(test_cgroup),
        cmocka_unit_test(test_numbers_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
