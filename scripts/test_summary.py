#!/usr/bin/env python3
"""Counts test cases in meson's JUnit log (gtest cases included) and prints
'N passed, N failed' (', N skipped' when some were skipped)."""
import sys
import xml.etree.ElementTree as ET

def main(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"cannot read test log {path}: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    passed = failed = skipped = 0
    failures = []
    for suite in root.iter("testsuite"):
        name = suite.get("name", "")
        for case in suite.findall("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(f"{name}: {case.get('classname', '')}.{case.get('name', '')}")
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    for f in failures:
        print(f"FAILED {f}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
