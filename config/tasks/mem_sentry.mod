# mem_sentry: memory errors from the kernel's RAS tracepoints (machine checks, EDAC, memory
# failures, firmware logs); corrected errors counted per page, row, DIMM and socket, pages past
# their threshold offlined and the offline verified; alarm 1001 (docs/plugins/mem_sentry.md).
# An event this kernel lacks is off alone, and the task result says which are on.
[common]
enabled = yes
type = oneshot
onstart = yes
task_start = @SENTRY_PLUGIN_DIR@/mem_sentry --config @SENTRY_SYSCONFDIR@/plugins/mem_sentry.ini
task_stop = kill $pid
heartbeat_interval = 60
alarm_id = 1001
alarm_clear_time = 60
