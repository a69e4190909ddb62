# avg_block_io: slow io detection against a moving average and absolute limits
# (docs/plugins/avg_block_io.md). Alarm 1002 when a disk turns slow, RECOVER when it is well.
[common]
enabled = yes
type = oneshot
onstart = yes
task_start = @SENTRY_PLUGIN_DIR@/avg_block_io --config @SENTRY_SYSCONFDIR@/plugins/avg_block_io.ini
task_stop = kill $pid
heartbeat_interval = 60
alarm_id = 1002
alarm_clear_time = 5
