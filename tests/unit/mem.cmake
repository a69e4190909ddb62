# Unit tests of plugins/mem_sentry: the leaky buckets, the bounded tables, the policy's decisions
# (thresholds, offline budget, storms, RECOVER) and the configuration.
sentry_unit_test(test_mem_leaky_bucket SOURCES test_mem_leaky_bucket.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_table SOURCES test_mem_table.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_policy SOURCES test_mem_policy.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_config SOURCES test_mem_config.c LIBS mem_sentry_core)
# The sysfs page offline against a fake kernel tree, its retry schedule, and the state file of
# offlined pages.
sentry_unit_test(test_mem_page_offline SOURCES test_mem_page_offline.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_offline_state SOURCES test_mem_offline_state.c LIBS mem_sentry_core)
# Machine check records: memory or not, corrected or not, and whether the address names a page.
sentry_unit_test(test_mem_mce_decode SOURCES test_mem_mce_decode.c LIBS mem_sentry_core)
# The RAS tracepoints' records, byte-exact under Debian 6.1's formats, and hostile ones.
sentry_unit_test(test_mem_events SOURCES test_mem_events.c LIBS mem_sentry_core)
target_compile_definitions(test_mem_events PRIVATE
                           SENTRY_FIXTURES_DIR="${PROJECT_SOURCE_DIR}/tests/fixtures")
# A CPU's corrected-error storm, its optional offline and the limit on how many CPUs go.
sentry_unit_test(test_mem_cpu_policy SOURCES test_mem_cpu_policy.c LIBS mem_sentry_core)
# The view within one protocol line.
sentry_unit_test(test_mem_view_fit SOURCES test_mem_view_fit.c LIBS mem_sentry_core)
