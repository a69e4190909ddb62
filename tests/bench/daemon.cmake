# sentryd start-up and idle cost.
add_test(NAME bench.idle COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/idle_bench.py)
set_tests_properties(bench.idle PROPERTIES LABELS bench TIMEOUT 600 RUN_SERIAL TRUE
  ENVIRONMENT "SENTRY_BUILD_DIR=${CMAKE_BINARY_DIR}")
