# Unit tests of plugins/mem_sentry: the leaky buckets, the bounded tables, the policy's decisions
# (thresholds, offline budget, storms, RECOVER) and the configuration.
sentry_unit_test(test_mem_leaky_bucket SOURCES test_mem_leaky_bucket.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_table SOURCES test_mem_table.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_policy SOURCES test_mem_policy.c LIBS mem_sentry_core)
sentry_unit_test(test_mem_config SOURCES test_mem_config.c LIBS mem_sentry_core)
