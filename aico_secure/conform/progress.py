"""A rich progress bar of a conformance run (tests done / total, passed / failed), on standard error.

Loaded into the pytest child by ``aico-secure conform`` only when the caller's standard error is a terminal
and the run is not ``--quiet``: a CI log gets no control sequences. It lives on the controller only and counts
``pytest_runtest_logreport``, which under pytest-xdist the controller receives for every worker's tests, so
one bar covers a parallel run; the total comes from collection (the controller's, or the first worker's).
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

_NAME = "aico-conformance-progress"


class ProgressBar:
    def __init__(self) -> None:
        self.progress = Progress(
            TextColumn("conformance"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[green]{task.fields[passed]} passed[/] [red]{task.fields[failed]} failed[/]"),
            TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
        self.task: TaskID | None = None
        self.failed: set[str] = set()
        self.done = 0

    def _set_total(self, total: int) -> None:
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task("tests", total=total, passed=0, failed=0)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not session.config.pluginmanager.hasplugin("dsession"):  # xdist: the workers collect
            self._set_total(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self._set_total(len(ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed.add(report.nodeid)
        if report.when != "teardown" or self.task is None:
            return
        self.done += 1
        failed = len(self.failed)
        self.progress.update(self.task, completed=self.done, passed=self.done - failed, failed=failed)

    def pytest_sessionfinish(self) -> None:
        self.progress.stop()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and not config.pluginmanager.has_plugin(_NAME):
        config.pluginmanager.register(ProgressBar(), _NAME)
