# Unit tests of plugins/sentry_msg_monitor: the notice texts, the answer parser, the version rule.
sentry_unit_test(test_smm_notice SOURCES test_smm_notice.c LIBS smm_core)
sentry_unit_test(test_smm_answer SOURCES test_smm_answer.c LIBS smm_core)
sentry_unit_test(test_smm_version SOURCES test_smm_version.c LIBS smm_core)
