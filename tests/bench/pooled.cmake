# The pooled-memory chain in the lab: kernel notice -> sentryd -> pool manager -> answer -> kernel
# (tests/bench/bench_pooled_memory.py).
add_test(NAME bench.pooled COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_pooled_memory.py)
set_tests_properties(bench.pooled PROPERTIES LABELS bench TIMEOUT 1200 RUN_SERIAL TRUE
  SKIP_RETURN_CODE 77
  ENVIRONMENT "SENTRY_BUILD_DIR=${CMAKE_BINARY_DIR};SENTRY_LAB_CACHE=${PROJECT_SOURCE_DIR}/build/vm")
