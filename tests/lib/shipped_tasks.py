"""The task files of config/tasks/ as `make install` would install them, for tests that run the
shipped plugins with their shipped configuration against the build's binaries."""
import os

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def shipped_mod(task, exe):
    """The text of config/tasks/<task>.mod with exe as its program and the source tree's
    config/ as the configuration directory (config/plugins/<task>.ini)."""
    with open(os.path.join(SOURCE_DIR, "config", "tasks", task + ".mod")) as f:
        text = f.read()
    return text.replace("@SENTRY_PLUGIN_DIR@/" + task, exe).replace(
        "@SENTRY_SYSCONFDIR@", os.path.join(SOURCE_DIR, "config"))


def write_shipped_tasks(root, tasks):
    """Writes the shipped .mod of each {task: exe} into a SentryRoot."""
    for task, exe in tasks.items():
        root.write_mod(task, text=shipped_mod(task, exe))
