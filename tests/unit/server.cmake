# Unit tests of the servers' defences against hostile clients: connection slots, xalarm id sets,
# the per-reporter rate limit, the checks every request line passes, xalarm registration messages,
# and valid UTF-8 in every answer.
sentry_unit_test(test_request_parse SOURCES test_request_parse.c LIBS sentryd_core)
sentry_unit_test(test_client_limits SOURCES test_client_limits.c LIBS sentryd_core)
sentry_unit_test(test_xalarm_ids SOURCES test_xalarm_ids.c LIBS sentryd_core)
sentry_unit_test(test_xalarm_register_msg SOURCES test_xalarm_register_msg.c LIBS sentryd_core)
sentry_unit_test(test_alarm_rate_limit SOURCES test_alarm_rate_limit.c LIBS sentryd_core)
sentry_unit_test(test_json_escape SOURCES test_json_escape.c LIBS sentry_common)
