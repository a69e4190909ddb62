# Collector io sources: eBPF overhead on a loop disk's iops, and the CPU cost of reading 16 disks
# once per second (tests/bench/bench_io_sources.py).
add_test(NAME bench.io_sources COMMAND ${PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/bench_io_sources.py)
set_tests_properties(bench.io_sources PROPERTIES LABELS bench TIMEOUT 900 RUN_SERIAL TRUE
  SKIP_RETURN_CODE 77 ENVIRONMENT "SENTRY_BUILD_DIR=${CMAKE_BINARY_DIR}")
