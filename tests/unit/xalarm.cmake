# Unit tests of the sysSentry-compatible libxalarm API in libsentry and of the xalarm record
# shared with sentryd.
sentry_unit_test(test_xalarm_record SOURCES test_xalarm_record.c LIBS sentry sentry_common)
# xalarm_client.c is compiled in as well, so that its internal functions (the bitmap -> id
# ranges compaction) are called directly; libsentry keeps its own hidden copy.
sentry_unit_test(test_xalarm_client SOURCES test_xalarm_client.c
                 ${PROJECT_SOURCE_DIR}/lib/xalarm/xalarm_client.c LIBS sentry sentry_common)
target_include_directories(test_xalarm_client PRIVATE ${PROJECT_SOURCE_DIR}/lib/xalarm)
