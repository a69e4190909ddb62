# mem_sentry's policy under a storm of 10 million corrected errors over 1 million pages:
# events/s against a baseline loop, memory per tracked page, resident set growth.
add_executable(bench_mem_policy bench_mem_policy.c)
target_link_libraries(bench_mem_policy PRIVATE mem_sentry_core)
add_test(NAME bench.mem_policy COMMAND bench_mem_policy)
set_tests_properties(bench.mem_policy PROPERTIES LABELS bench TIMEOUT 600 RUN_SERIAL TRUE)
