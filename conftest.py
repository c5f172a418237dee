"""`make test` runs test files in parallel processes (pytest-xdist). A test marked `alone` sets
times against times (the noisy-neighbour latency ratio): while it runs, no other test runs, so the
ratio measures what the test does and not what another process happens to load the machine
with. Its fixtures are set up beside the other tests; only its call waits for them.

Two file locks shared by the processes of one run: every test holds `tests` shared from its
setup to its teardown (a module's platform starts and stops inside those); a test marked `alone`
holds it exclusively for its call. `gate` is the turnstile that keeps the exclusive side from
waiting for ever: a test passes it on its way in, and the `alone` test holds it while it waits,
so no new test starts meanwhile.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

ALONE = "alone"


class _Locks:
    def __init__(self, folder: Path) -> None:
        self.gate: IO[bytes] = (folder / "gate").open("ab")
        self.tests: IO[bytes] = (folder / "tests").open("ab")

    @contextmanager
    def shared(self) -> Iterator[None]:
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        fcntl.flock(self.tests, fcntl.LOCK_SH)
        fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.tests, fcntl.LOCK_UN)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.tests, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.tests, fcntl.LOCK_UN)
        finally:
            fcntl.flock(self.gate, fcntl.LOCK_UN)


_FOLDER = pytest.StashKey[Path]()
_locks: _Locks | None = None


class _Controller:
    """In the controlling process of a pytest-xdist run: one folder of locks for the run,
    handed to every worker. A plugin of its own, registered only where xdist is: its hook is
    unknown to a pytest without it (a service's own environment)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_configure_node(self, node: Any) -> None:
        stash = self.config.stash
        if _FOLDER not in stash:
            stash[_FOLDER] = Path(tempfile.mkdtemp(prefix="saas-tests-"))
        node.workerinput["saas_test_locks"] = str(stash[_FOLDER])


def pytest_configure(config: pytest.Config) -> None:
    global _locks
    worker: dict[str, Any] | None = getattr(config, "workerinput", None)
    if worker is None and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_Controller(config), "saas-test-locks")
    elif worker is not None and "saas_test_locks" in worker:
        _locks = _Locks(Path(worker["saas_test_locks"]))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _FOLDER in config.stash:
        shutil.rmtree(config.stash[_FOLDER], ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    if _locks is None or item.get_closest_marker(ALONE) is not None:
        return (yield)
    with _locks.shared():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    if _locks is None or item.get_closest_marker(ALONE) is None:
        return (yield)
    with _locks.exclusive():
        return (yield)
