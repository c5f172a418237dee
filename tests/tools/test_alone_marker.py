"""The `alone` marker (conftest.py at the root): under pytest-xdist, a marked test's call runs
while no other test runs; without the root conftest, the same tests do overlap, so the check
below can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

XDIST = ("-n", "2", "--dist", "loadfile", "--strict-markers")

ALONE = """
import time, pytest

@pytest.mark.alone
def test_alone():
    start = time.time()
    time.sleep(1.0)
    with open("windows.txt", "a") as out:
        out.write(f"alone {start} {time.time()}\\n")
"""

OTHERS = """
import time, pytest

@pytest.mark.parametrize("n", range(8))
def test_other(n):
    start = time.time()
    time.sleep(0.1)
    with open("windows.txt", "a") as out:
        out.write(f"other {start} {time.time()}\\n")
"""


def _run(
    folder: Path, *, with_conftest: bool, options: tuple[str, ...] = XDIST
) -> list[tuple[str, float, float]]:
    folder.mkdir()
    (folder / "tmp").mkdir()
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    alone: alone\n")
    if with_conftest:
        shutil.copy(ROOT / "conftest.py", folder / "conftest.py")
    # The alone test sits between two files of others: the second worker is mid-file when its
    # call begins, and has another file to start while it runs.
    (folder / "test_a_others.py").write_text(OTHERS)
    (folder / "test_b_alone.py").write_text(ALONE)
    (folder / "test_c_others.py").write_text(OTHERS)
    (folder / "test_d_others.py").write_text(OTHERS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options],
        cwd=folder,
        env={**os.environ, "TMPDIR": str(folder / "tmp")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    windows = []
    for line in (folder / "windows.txt").read_text().splitlines():
        name, start, end = line.split()
        windows.append((name, float(start), float(end)))
    return windows


def _overlapping_alone(windows: list[tuple[str, float, float]]) -> int:
    [(_, start, end)] = [w for w in windows if w[0] == "alone"]
    return sum(1 for name, s, e in windows if name == "other" and s < end and e > start)


def test_no_other_test_runs_during_an_alone_tests_call(tmp_path: Path) -> None:
    windows = _run(tmp_path / "with", with_conftest=True)
    assert len(windows) == 25
    assert _overlapping_alone(windows) == 0
    # and the run's locks are gone with it
    assert not list((tmp_path / "with" / "tmp").glob("saas-tests-*"))


def test_without_the_conftest_the_same_tests_overlap(tmp_path: Path) -> None:
    windows = _run(tmp_path / "without", with_conftest=False)
    assert _overlapping_alone(windows) > 0


def test_without_xdist_the_conftest_stands_aside(tmp_path: Path) -> None:
    # as in a service's own environment (make test SERVICE=...), which has no pytest-xdist
    windows = _run(tmp_path / "plain", with_conftest=True, options=("-p", "no:xdist"))
    assert len(windows) == 25
