/* test_user_identity: a task's user: the environment it gets (HOME, SHELL, USER, LOGNAME, PATH,
 * PWD), its working directory, and reading its env_file with its rights, never root's. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>

#include "strv.h"
#include "test_util.h"
#include "user_identity.h"

static char dir[] = "/tmp/test_user_identity.XXXXXX";

static const char *env_get(char **env, const char *key)
{
    int i = strv_env_find(env, key);
    return i < 0 ? NULL : strchr(env[i], '=') + 1;
}

static void test_env(void **state)
{
    struct user_identity id = {.name = (char *) "alice",
                               .uid = 1000,
                               .gid = 1000,
                               .home = (char *) "/home/alice",
                               .shell = (char *) "/bin/bash"};
    char **env = NULL;

    assert_int_equal(strv_env_set(&env, "HOME", "/root"), 0);
    assert_int_equal(strv_env_set(&env, "PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), 0);
    assert_int_equal(strv_env_set(&env, "PWD", "/work/somewhere"), 0);
    assert_int_equal(strv_env_set(&env, "LANG", "C.UTF-8"), 0);
    assert_int_equal(user_identity_apply_env(&id, "/home/alice", &env), 0);
    assert_string_equal(env_get(env, "HOME"), "/home/alice");
    assert_string_equal(env_get(env, "SHELL"), "/bin/bash");
    assert_string_equal(env_get(env, "USER"), "alice");
    assert_string_equal(env_get(env, "LOGNAME"), "alice");
    assert_string_equal(env_get(env, "PWD"), "/home/alice");
    assert_string_equal(env_get(env, "PATH"), USER_DEFAULT_PATH);
    assert_string_equal(env_get(env, "LANG"), "C.UTF-8"); /* the rest stays */
    strv_free(env);

    /* root (user=root) keeps sentryd's PATH */
    struct user_identity root = {.name = (char *) "root",
                                 .uid = 0,
                                 .gid = 0,
                                 .home = (char *) "/root",
                                 .shell = (char *) "/bin/sh"};
    env = NULL;
    assert_int_equal(strv_env_set(&env, "PATH", "/usr/sbin:/usr/bin"), 0);
    assert_int_equal(user_identity_apply_env(&root, "/", &env), 0);
    assert_string_equal(env_get(env, "PATH"), "/usr/sbin:/usr/bin");
    assert_string_equal(env_get(env, "HOME"), "/root");
    assert_string_equal(env_get(env, "PWD"), "/");
    strv_free(env);
}

static void test_resolve_and_cwd(void **state)
{
    struct user_identity id;

    assert_int_equal(user_identity_resolve("no_such_user_here_x", &id), -ESRCH);
    assert_int_equal(user_identity_resolve("root", &id), 0);
    assert_int_equal(id.uid, 0);
    assert_string_equal(id.name, "root");
    assert_non_null(id.home);
    assert_non_null(id.shell);
    assert_true(id.n_groups >= 1);
    user_identity_done(&id);

    /* the home when it is a directory, else / */
    struct user_identity fake = {.home = dir};
    assert_string_equal(user_identity_cwd(&fake), dir);
    fake.home = (char *) "/nonexistent/home";
    assert_string_equal(user_identity_cwd(&fake), "/");
    fake.home = (char *) "/etc/passwd";
    assert_string_equal(user_identity_cwd(&fake), "/");
    fake.home = (char *) "relative";
    assert_string_equal(user_identity_cwd(&fake), "/");
}

static void write_file(const char *name, const char *text, mode_t mode, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_read_as_user(void **state)
{
    struct user_identity nobody;
    char secret[512], open_[512], fifo[512];
    char *text = NULL;
    struct stat st;

    if (geteuid() != 0 || user_identity_resolve("nobody", &nobody) < 0)
        skip(); /* needs root and the user nobody */
    /* nobody must be able to reach the files, not to read the private one */
    assert_int_equal(chmod(dir, 0755), 0);
    write_file("secret.env", "A=1\n", 0600, secret, sizeof(secret));
    write_file("open.env", "B=2\n", 0644, open_, sizeof(open_));

    assert_int_equal(user_read_file(&nobody, secret, 4096, &text, &st), -EACCES);
    assert_null(text);
    assert_int_equal(user_read_file(&nobody, open_, 4096, &text, &st), 0);
    assert_string_equal(text, "B=2\n");
    assert_int_equal(st.st_uid, 0); /* the fstat of what was read */
    assert_int_equal(st.st_mode & 0777, 0644);
    free(text);
    text = NULL;

    /* root itself (user=root) reads it */
    struct user_identity root;
    assert_int_equal(user_identity_resolve("root", &root), 0);
    assert_int_equal(user_read_file(&root, secret, 4096, &text, NULL), 0);
    assert_string_equal(text, "A=1\n");
    free(text);
    text = NULL;

    /* not a regular file (a FIFO is not waited on), too big, missing */
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(user_read_file(&root, fifo, 4096, &text, NULL), -EBADFD);
    assert_int_equal(user_read_file(&root, dir, 4096, &text, NULL), -EISDIR);
    assert_int_equal(user_read_file(&root, open_, 2, &text, NULL), -EFBIG);
    assert_int_equal(user_read_file(&nobody, "/nonexistent/x.env", 4096, &text, NULL), -ENOENT);
    assert_null(text);
    user_identity_done(&root);
    user_identity_done(&nobody);
}

static int setup(void **state)
{
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    return test_rm_rf(dir) != 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_resolve_and_cwd),
        cmocka_unit_test(test_read_as_user),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
