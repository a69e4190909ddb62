"""testmain: runs a test file's unittest cases and exits so that ctest tells the truth.

Exit status: 1 when a test failed or erred; else 77 when any test was skipped (ctest's
SKIP_RETURN_CODE for these tests: the file is reported as skipped, with the reasons printed, never
as passed); else 0."""
import sys
import unittest

SKIP = 77


def main(**kwargs):
    kwargs.setdefault("verbosity", 2)
    prog = unittest.main(exit=False, **kwargs)
    result = prog.result
    if result.failures or result.errors or getattr(result, "unexpectedSuccesses", None):
        sys.exit(1)
    if result.testsRun == 0:
        print("SKIPPED: no test ran")
        sys.exit(SKIP)
    if result.skipped:
        print("SKIPPED: %d of %d test(s) did not run:" % (len(result.skipped), result.testsRun))
        for test, why in result.skipped:
            print("  %s: %s" % (test.id(), why))
        sys.stdout.flush()
        sys.exit(SKIP)
    sys.exit(0)
