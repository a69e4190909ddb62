# Unit tests of sentryd's modules (linked against sentryd_core).
sentry_unit_test(test_mod_file SOURCES test_mod_file.c LIBS sentryd_core)
sentry_unit_test(test_env_file SOURCES test_env_file.c LIBS sentryd_core)
sentry_unit_test(test_task SOURCES test_task.c LIBS sentryd_core)
sentry_unit_test(test_daemon_config SOURCES test_daemon_config.c LIBS sentryd_core)
sentry_unit_test(test_record_queue SOURCES test_record_queue.c LIBS sentryd_core)
sentry_unit_test(test_task_log SOURCES test_task_log.c LIBS sentryd_core)
sentry_unit_test(test_alarm SOURCES test_alarm.c LIBS sentryd_core)
