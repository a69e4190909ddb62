# Unit tests of collector/ (sentry_collector): name tables, disk types, the diskstats and
# blk_io_hierarchy formats and sources over fake /proc and debugfs trees, disk discovery.
sentry_unit_test(test_io_stage SOURCES test_io_stage.c LIBS sentry_collector)
sentry_unit_test(test_diskstats SOURCES test_diskstats.c LIBS sentry_collector)
sentry_unit_test(test_hierarchy SOURCES test_hierarchy.c LIBS sentry_collector)
sentry_unit_test(test_disk_discovery SOURCES test_disk_discovery.c LIBS sentry_collector)
sentry_unit_test(test_bpf_verifier_log SOURCES test_bpf_verifier_log.c LIBS sentry_collector)
target_compile_definitions(test_bpf_verifier_log PRIVATE
                           SENTRY_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
sentry_unit_test(test_io_source_set SOURCES test_io_source_set.c LIBS sentry_collector)
