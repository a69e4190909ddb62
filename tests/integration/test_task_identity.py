"""Who a task runs as (issue 9, item 13): a task with `user=` gets that user's HOME, SHELL,
USER, PATH and working directory, not root's; its env_file is read with the user's rights (one
only root may read is not used, while root's own task reads it); task files and env files that
someone other than root may change are refused with the file and the reason named.

Needs root (tasks run as nobody, files are chowned)."""
import os
import pwd
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from sentry_harness import SentryTestCase, read, run, wait_for  # noqa: E402

NOBODY = pwd.getpwnam("nobody")
USER_PATH = "/usr/local/bin:/usr/bin:/bin"

# Prints what a task sees of its identity, one KEY=VALUE a line.
SHOW = ("/bin/sh -c 'echo \"HOME=$HOME\"; echo \"SHELL=$SHELL\"; echo \"USER=$USER\"; "
        "echo \"PATH=$PATH\"; echo \"PWD=$PWD\"; echo \"CWD=$(pwd)\"; echo \"UID=$(id -u)\"; "
        "echo \"SECRET=${SECRET:-unset}\"'")


def user_with_home():
    """A user other than root whose home is a directory (daemon: /usr/sbin on Debian)."""
    for p in sorted(pwd.getpwall(), key=lambda p: p.pw_uid):
        if p.pw_uid != 0 and p.pw_dir not in ("", "/") and os.path.isdir(p.pw_dir):
            return p
    return None


class IdentityTestCase(SentryTestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        super().setUp()
        # nobody must be able to reach what it is given, so that a refusal is the file's own
        os.chmod(self.root.dir, 0o755)

    def task(self, name, **keys):
        mod = dict(enabled="yes", type="oneshot", task_start=SHOW, task_stop="kill $pid")
        mod.update(keys)
        return self.root.write_mod(name, **mod)

    def seen(self, name):
        """Runs the task once; what it printed, as a dict."""
        rc, out, err = self.root.ctl("start", name)
        self.assertEqual(rc, 0, out + err)
        self.root.wait_state(name, ("EXITED", "FAILED"))
        def last_run():
            run = self.root.task_log(name).rsplit("-- sentryd: run ", 1)[-1]
            return "SECRET=" in run and run
        run = wait_for(last_run, what="the output of %s" % name)
        return dict(l.split("=", 1) for l in run.splitlines()[1:] if "=" in l)


class UserIdentityTest(IdentityTestCase):
    def test_nobody_gets_its_own_home_path_and_cwd(self):
        self.task("asnobody", user="nobody")
        self.task("asroot")
        self.root.start()
        env = self.seen("asnobody")
        cwd = NOBODY.pw_dir if os.path.isdir(NOBODY.pw_dir) else "/"
        self.assertEqual(env["UID"], str(NOBODY.pw_uid))
        self.assertEqual(env["HOME"], NOBODY.pw_dir)
        self.assertEqual(env["SHELL"], NOBODY.pw_shell)
        self.assertEqual(env["USER"], "nobody")
        self.assertEqual(env["PATH"], USER_PATH)
        self.assertEqual(env["PWD"], cwd)
        self.assertEqual(env["CWD"], cwd)
        # root's own task keeps sentryd's environment, with the right PWD
        env = self.seen("asroot")
        self.assertEqual(env["UID"], "0")
        self.assertEqual(env["PWD"], "/")
        self.assertEqual(env["CWD"], "/")
        self.assertEqual(env["PATH"], os.environ.get("PATH", env["PATH"]))

    def test_user_with_a_home_works_there(self):
        user = user_with_home()
        if not user:
            self.skipTest("no user with a home directory here")
        self.task("ashome", user=user.pw_name)
        self.root.start()
        env = self.seen("ashome")
        self.assertEqual(env["UID"], str(user.pw_uid))
        self.assertEqual(env["HOME"], user.pw_dir)
        self.assertEqual(env["CWD"], user.pw_dir)
        self.assertEqual(env["PWD"], user.pw_dir)


class EnvFileAsUserTest(IdentityTestCase):
    def env_file(self, name, mode, owner=0):
        path = self.root.path(name)
        with open(path, "w") as f:
            f.write("SECRET=%s\n" % name)
        os.chown(path, owner, owner)
        os.chmod(path, mode)
        return path

    def test_root_only_env_file_is_not_read_for_nobody(self):
        private = self.env_file("private.env", 0o600)
        public = self.env_file("public.env", 0o644)
        self.task("nobody_private", user="nobody", env_file=private)
        self.task("nobody_public", user="nobody", env_file=public)
        self.task("root_private", env_file=private)
        self.root.start()
        why = "env_file '%s' is not readable by user nobody (Permission denied)" % private
        self.assertInLog(why)
        self.assertIn(why, " ".join(self.root.status("nobody_private")["warnings"]))
        # nobody does not get what only root may read, neither at load nor when it starts
        self.assertEqual(self.seen("nobody_private")["SECRET"], "unset")
        # a file nobody may read is read, as nobody
        self.assertEqual(self.seen("nobody_public")["SECRET"], "public.env")
        # root's own task reads the private one
        self.assertEqual(self.seen("root_private")["SECRET"], "private.env")

    def test_made_unreadable_after_load(self):
        env = self.env_file("later.env", 0o644)
        self.task("later", user="nobody", env_file=env)
        self.root.start()
        self.assertEqual(self.seen("later")["SECRET"], "later.env")
        os.chmod(env, 0o600)
        self.assertEqual(self.seen("later")["SECRET"], "unset")
        self.assertInLog("env_file '%s' cannot be read by user nobody" % env)

    def test_env_file_others_may_change_is_refused(self):
        writable = self.env_file("group.env", 0o664)
        foreign = self.env_file("foreign.env", 0o644, owner=NOBODY.pw_uid)
        self.task("groupenv", env_file=writable)
        self.task("foreignenv", env_file=foreign)
        # a user's own file is fine for its own task
        self.task("ownenv", user="nobody", env_file=foreign)
        self.root.start()
        self.assertInLog("env_file '%s' refused: writable by its group (mode 0664)" % writable)
        self.assertInLog("env_file '%s' refused: owned by uid %d, not by root"
                         % (foreign, NOBODY.pw_uid))
        _, out, _ = self.root.ctl("list")
        self.assertNotIn("groupenv", out)
        self.assertNotIn("foreignenv", out)
        self.assertEqual(self.seen("ownenv")["SECRET"], "foreign.env")


class ModFileOwnershipTest(IdentityTestCase):
    def test_unsafe_mod_files_are_refused(self):
        self.task("fine")
        group = self.task("groupw")
        os.chmod(group, 0o664)
        other = self.task("otherw")
        os.chmod(other, 0o646)
        foreign = self.task("foreign")
        os.chown(foreign, NOBODY.pw_uid, NOBODY.pw_gid)
        self.root.start()
        for path, why in ((group, "writable by its group (mode 0664)"),
                          (other, "writable by others (mode 0646)"),
                          (foreign, "owned by uid %d, not by root" % NOBODY.pw_uid)):
            self.assertInLog("%s: unsafe task file, refused: %s" % (path, why))
        _, out, _ = self.root.ctl("list")
        self.assertIn("fine", out)
        for name in ("groupw", "otherw", "foreign"):
            self.assertNotIn(name, out)
        # a reload says the same, and a fixed file loads
        rc, _, err = self.root.ctl("reload", "groupw")
        self.assertEqual(rc, 1)
        self.assertIn("%s: unsafe task file, refused: writable by its group" % group, err)
        os.chmod(group, 0o644)
        rc, out, err = self.root.ctl("reload", "groupw")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(self.root.state("groupw"), "EXITED")


if __name__ == "__main__":
    run()
