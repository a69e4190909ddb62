# Unit tests of the sysSentry-compatible libxalarm API in libsentry and of the xalarm record
# shared with sentryd.
sentry_unit_test(test_xalarm_record SOURCES test_xalarm_record.c LIBS sentry sentry_common)
sentry_unit_test(test_xalarm_client SOURCES test_xalarm_client.c LIBS sentry sentry_common)
