"""The pass/fail count every integration script keeps: a line per failed
case (and per passed one when verbose), and the last line that make
check reads, "NAME: N passed, M failed"."""
import os
import sys


class Tally:
    def __init__(self, name, verbose=True, pending=(), detail_max=None):
        self.name = name
        self.verbose = verbose
        # Cases waiting on a change owned elsewhere: reported, not counted.
        self.pending = set(pending)
        self.detail_max = detail_max
        self.passed = self.failed = 0

    def check(self, what, ok, detail=""):
        detail = str(detail)
        if self.detail_max:
            detail = detail[:self.detail_max]
        if what in self.pending:
            print("%s %s%s" % ("PENDING-PASSES (remove from PENDING)" if ok
                               else "pending", what,
                               "" if ok else ": " + detail[:300]))
        elif ok:
            self.passed += 1
            if self.verbose:
                print("ok   " + what)
        else:
            self.failed += 1
            print("FAIL %s: %s" % (what, detail))
        sys.stdout.flush()

    def summary(self):
        """Prints the last line; the exit status."""
        print("%s: %d passed, %d failed" % (self.name, self.passed,
                                            self.failed))
        return 1 if self.failed else 0


def missing(name, paths):
    """True (after saying which and failing the run) if a file the script
    needs was not built."""
    for path in paths:
        if not os.path.exists(path):
            print("%s: missing %s: run 'make' first" % (name, path))
            print("%s: 0 passed, 1 failed" % name)
            return True
    return False
