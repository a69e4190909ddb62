# sentry_msg_monitor: the reader of /dev/sentry_msg_helper (kmod/, docs/kmod.md): kernel notices
# (power off 1003, OOM 1005, panic 1007, kernel reboot 1009, shared memory fault 1013, link
# event 1016) become alarms, and the answers 1004, 1006, 1008, 1010 go back to the kernel
# (docs/plugins/sentry_msg_monitor.md). A period task, as in the reference: if it ends (the
# device went away, an unexpected error) it is started again after interval seconds.
#
# onstart = no: without the module the plugin cannot run, and starting it on every node would
# leave a task failing every 10 seconds. On nodes with the module set onstart = yes (or
# `sentryctl start sentry_msg_monitor`), and load the module at boot (modules-load.d) or here:
#   task_pre = /usr/sbin/modprobe sentry_msg_helper
# A task_pre that fails fails the start, so it belongs only where the module is installed.
[common]
enabled = yes
type = period
interval = 10
onstart = no
task_start = @SENTRY_PLUGIN_DIR@/sentry_msg_monitor
task_stop = kill $pid
# The log level: a KEY=VALUE file with LOG_LEVEL=debug, info, warning or error (default info).
#env_file = /etc/sysconfig/sentry_msg_monitor
