"""Every case of the reliability catalogue is tied to tests that exist (or says why it has none)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.reliability import report
from tests.reliability.catalogue import CASES, COVERAGE, NOT_BUILT

# The catalogue itself lives beside the repository (shared design documents).
SHARED = [report.ROOT.parent / "shared" / "reliability.md", Path("/work/shared/reliability.md")]


def test_every_case_has_a_test_or_a_reason():
    ids = [case for case, _ in CASES]
    assert len(ids) == len(set(ids))
    missing = [case for case in ids if not COVERAGE.get(case) and case not in NOT_BUILT]
    assert missing == [], f"cases without a test: {missing}"
    assert not set(COVERAGE) - set(ids), "coverage names cases the catalogue does not have"
    assert not set(COVERAGE) & set(NOT_BUILT), "a case with tests is not 'not built'"


def test_every_named_test_exists():
    absent = [nodeid for tests in COVERAGE.values() for nodeid in tests
              if not report.test_exists(nodeid)]
    assert absent == [], f"named tests that do not exist: {absent}"


def test_the_list_of_cases_is_the_catalogues():
    source = next((path for path in SHARED if path.is_file()), None)
    if source is None:
        pytest.skip("the shared catalogue is not beside this checkout")
    headings = re.findall(r"^### (\S+) ", source.read_text(), flags=re.MULTILINE)
    assert [case for case, _ in CASES] == headings


def test_the_table_names_each_case_its_tests_and_their_results(tmp_path, monkeypatch):
    monkeypatch.setitem(report.NOT_BUILT, "Z-01", "no archives yet")
    case, nodeid = "U-03", COVERAGE["U-03"][0]
    outcomes: dict[str, str] = {}
    report.merge(outcomes, f"{nodeid}[empty]", "passed")
    report.merge(outcomes, f"{nodeid}[one-byte]", "failed")
    report.merge(outcomes, f"{nodeid}[other]", "passed")
    report.write(outcomes, tmp_path / "reliability.md")
    table = (tmp_path / "reliability.md").read_text()
    assert f"| {case} | Zero-byte and 1-byte files | `{nodeid}` | failed |" in table
    assert f"`{COVERAGE['U-03'][1]}` | not run |" in table
    assert "| Z-01 | ZIP downloads | *no test: no archives yet* | - |" in table


def test_a_missing_test_is_noticed():
    assert not report.test_exists("tests/unit/test_config.py::test_no_such_test")
    assert not report.test_exists("tests/unit/no_such_file.py::test_x")
    assert report.test_exists("tests/unit/test_config.py::test_production_names_what_is_missing")


def test_a_second_run_keeps_the_results_of_the_first(tmp_path):
    first, second = COVERAGE["U-03"][1], COVERAGE["U-04"][1]
    target = tmp_path / "reliability.md"
    report.write({first: "passed"}, target)
    report.write({second: "failed"}, target)
    table = target.read_text()
    assert f"`{first}` | passed |" in table and f"`{second}` | failed |" in table
