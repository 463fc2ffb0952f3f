"""The pytest plugin that turns a pytest run into a conformance verdict.

Registered through the ``pytest11`` entry point, so in any environment where aico-secure is installed,
``pytest --aico-target=package.module:factory`` adds the conformance suite to the run, binds each test to its
requirement IDs (``@pytest.mark.requirement``), and at the end prints and writes one verdict per requirement.
Runs under pytest-xdist too: workers only tag reports; the controller aggregates.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
from collections.abc import Callable, Generator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from aico_secure.config import cache
from aico_secure.conform import hypothesis_profiles, limits, writes
from aico_secure.conform.catalog import Catalog, load_catalog
from aico_secure.conform.outcomes import Outcome, TestResult, aggregate
from aico_secure.conform.passphrases import passphrase
from aico_secure.conform.report_files import ReportWriteError, write_reports
from aico_secure.conform.suite import suite_dir
from aico_secure.target import CapabilityMissing, KeysCapability, KeySession, Target, load_target
from aico_secure.target.loader import DEFAULT_LOAD_TIMEOUT, TargetIdentity, TargetLoadError, check_target

PROFILES = limits.PROFILES
_REQ_PROP = "aico_requirements"
_NOT_IMPLEMENTED_PROP = "aico_not_implemented"
_TIMEOUT_PROP = "aico_timeout"
# pytest-timeout's failure message (PYTEST_FAILURE_MESSAGE) starts with this; it is how a timeout is told apart
# from an assertion failure, so a test that ran out of time is "error", never "fail" or "pass".
_TIMEOUT_MESSAGE_PREFIX = "Timeout (>"
_EVIDENCE_PREFIX = "evidence:"
_WORST_FIRST = [Outcome.ERROR, Outcome.FAIL, Outcome.NOT_IMPLEMENTED, Outcome.NOT_RUN, Outcome.PASS]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aico-secure", "AICO conformance suite")
    group.addoption("--aico-target", default=None, metavar="PKG.MOD:FACTORY",
                    help="the build to judge; adds the conformance suite to this run")
    group.addoption("--aico-profile", default="quick", choices=PROFILES,
                    help="quick (before a push), full (release gate: crash and load checks), release (full, and "
                         "refuses test KDF keyrings)")
    group.addoption("--aico-report-dir", default=None, metavar="DIR",
                    help="write the conformance report here, one file per --aico-report-format")
    group.addoption("--aico-requirements", default=None, metavar="ID,ID",
                    help="run only the conformance tests bound to these requirement IDs (each must be in the "
                         "catalog)")
    group.addoption("--aico-report-format", default=None, metavar="FMT,FMT",
                    help="comma-separated report formats from the report registry; checked before the run "
                         "starts (default: " + ", ".join(limits.DEFAULT_FORMATS) + ", those installed)")
    group.addoption("--aico-waivers", default=None, metavar="FILE",
                    help="a YAML waiver file (requirement, justification, approver, expires, run); checked "
                         "before the run starts")
    group.addoption("--aico-baseline", default=None, metavar="REPORT",
                    help="an earlier JSON report: anything worse than there (report diff's rules) fails the run")
    group.addoption("--aico-test-timeout", default=None, metavar="SECONDS",
                    help="per-test timeout for conformance tests; a test that runs out of time is \"error\" "
                         "(default by profile: " + ", ".join(f"{p} {t:g} s" for p, t in
                                                            limits.DEFAULT_TEST_TIMEOUT.items()) + ")")
    group.addoption("--aico-load-timeout", default=None, metavar="SECONDS",
                    help=f"how long the target factory may take to return (default {DEFAULT_LOAD_TIMEOUT:g} s)")
    group.addoption("--aico-cache-dir", default=None, metavar="DIR",
                    help=f"cached state, Hypothesis's example database under DIR/hypothesis (default: "
                         f"${cache.ENV}, else $XDG_CACHE_HOME/aico-secure or ~/.cache/aico-secure)")
    parser.addini("aico_target", "default target for conformance tests collected without --aico-target "
                  "(a project's own ini; giving --aico-target also adds the whole suite to the run)")


def target_spec(config: pytest.Config) -> str | None:
    spec = config.getoption("aico_target") or config.getini("aico_target")
    return str(spec) if spec else None


def _test_timeout(config: pytest.Config) -> float:
    given = config.getoption("aico_test_timeout")
    seconds = None if given is None else limits.parse_timeout("--aico-test-timeout", str(given))
    return limits.per_test_timeout(config.getoption("aico_profile"), seconds)


def _load_timeout(config: pytest.Config) -> float:
    given = config.getoption("aico_load_timeout")
    return DEFAULT_LOAD_TIMEOUT if given is None else limits.parse_timeout("--aico-load-timeout", str(given))


def _report_formats(config: pytest.Config) -> tuple[str, ...]:
    given = config.getoption("aico_report_format")
    return limits.check_report_formats(given if given is not None else limits.default_formats())


_WAIVERS = pytest.StashKey[list[Any]]()
_TODAY = pytest.StashKey[date]()


def _today(config: pytest.Config) -> date:
    """One "today" per process, so the waivers that deselect tests are the waivers applied to the report."""
    if _TODAY not in config.stash:
        from aico_secure.report import waivers

        config.stash[_TODAY] = waivers.today()
    return config.stash[_TODAY]


def _waivers(config: pytest.Config) -> list[Any]:
    """The run's waivers (``aico_secure.report.waivers``), read and checked once per process."""
    if _WAIVERS not in config.stash:
        from aico_secure.conform.catalog import default_catalog
        from aico_secure.report import waivers

        path = config.getoption("aico_waivers")
        config.stash[_WAIVERS] = [] if not path else \
            waivers.load(Path(path), default_catalog(), config.getoption("aico_profile"))
    return config.stash[_WAIVERS]


def _validate_options(config: pytest.Config) -> None:
    """Every option of ours, before collection: a bad value is a usage error now, not a crash after the run.
    The report directory is created last, so a refused option leaves nothing behind."""
    from aico_secure.report import document, waivers

    try:
        _test_timeout(config)
        _load_timeout(config)
        _report_formats(config)
        if config.getoption("aico_requirements"):
            limits.check_requirements(config.getoption("aico_requirements"))
        _waivers(config)
        baseline = config.getoption("aico_baseline")
        if baseline and not hasattr(config, "workerinput"):
            document.load(Path(baseline))
        report_dir = config.getoption("aico_report_dir")
        if report_dir and not hasattr(config, "workerinput"):
            limits.check_report_dir(Path(report_dir))
    except (limits.LimitError, waivers.WaiverError) as exc:
        raise pytest.UsageError(str(exc)) from None
    except document.ReportError as exc:
        raise pytest.UsageError(f"--aico-baseline: {exc}") from None


_SEED_KEY = "aico_hypothesis_seed"


def _choose_hypothesis_seed(config: pytest.Config) -> None:
    """Fix one hypothesis seed for a conformance run when none was given, so the report always names the seed
    that reproduces it. The controller draws it; an xdist worker re-parses the command line (it does not
    receive the controller's option values), so the seed travels in ``workerinput`` (``pytest_configure_node``)
    and is set here, before hypothesis's plugin reads it, in every process."""
    if not config.pluginmanager.hasplugin("hypothesispytest") or not config.getoption("aico_target"):
        return  # only a conformance run writes provenance
    if getattr(config.option, "hypothesis_seed", None) is not None:
        return
    given = getattr(config, "workerinput", {}).get(_SEED_KEY)
    if given is not None:
        config.option.hypothesis_seed = str(given)
    elif not hasattr(config, "workerinput"):
        config.option.hypothesis_seed = str(secrets.randbits(32))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist, on the controller, before a worker starts: hand it the run's hypothesis seed."""
    seed = getattr(node.config.option, "hypothesis_seed", None)
    if seed is not None:
        node.workerinput[_SEED_KEY] = str(seed)


_SAVED_CACHE_ENV = pytest.StashKey["str | None"]()


def _configure_hypothesis(config: pytest.Config) -> None:
    """For a run that judges a build: the profiles (``hypothesis_profiles``) and the example database under the
    cache directory, not in the current directory. Resolved before the suite redirects ``HOME`` and the XDG
    directories, and exported so xdist workers (started later, under the redirection) use the same one. A run
    without a target is a team's own test run: its Hypothesis set-up is left alone."""
    if not target_spec(config):
        return
    cache_dir = cache.resolve(config.getoption("aico_cache_dir"))
    config.stash[_SAVED_CACHE_ENV] = os.environ.get(cache.ENV)
    cache.export(cache_dir)
    try:
        if hypothesis_profiles.chosen():  # conftest.py (this checkout's, or a team's) chose: it stands
            hypothesis_profiles.register(cache_dir)
        else:
            hypothesis_profiles.activate(hypothesis_profiles.GATE_FLOOR, cache_dir,
                                         floor=hypothesis_profiles.GATE_FLOOR)
    except hypothesis_profiles.ProfileError as exc:
        raise pytest.UsageError(str(exc)) from None


def _restore_cache_env(config: pytest.Config) -> None:
    if _SAVED_CACHE_ENV not in config.stash:
        return
    saved = config.stash[_SAVED_CACHE_ENV]
    if saved is None:
        os.environ.pop(cache.ENV, None)
    else:
        os.environ[cache.ENV] = saved


_CHECKED: dict[tuple[str, float], TargetIdentity | TargetLoadError] = {}
_LOADED = pytest.StashKey["Target | TargetLoadError"]()
_REDIRECTION = pytest.StashKey[writes.Redirection]()


def checked_identity(spec: str, timeout: float) -> TargetIdentity:
    """Load ``spec`` once per process in a child with a deadline (the loader's one rule); remembered, so a
    target that cannot load costs its timeout once, not once per test or again for the report."""
    key = (spec, timeout)
    if key not in _CHECKED:
        try:
            _CHECKED[key] = check_target(spec, timeout)
        except TargetLoadError as exc:
            _CHECKED[key] = exc
    found = _CHECKED[key]
    if isinstance(found, TargetLoadError):
        raise found
    return found


def _loaded_target(config: pytest.Config, *, keep_error: bool = False) -> Target | None:
    """The build, loaded once per process under the loader's one rule: first in a child process with a deadline
    (a factory that blocks, exits or kills its process fails there, not here), then in this process with the
    same deadline, where any exception or exit from the factory is the same one-line ``TargetLoadError``.
    Called right after collection, so loading never eats into the first test's timeout."""
    if _LOADED not in config.stash:
        spec = target_spec(config)
        timeout = _load_timeout(config)
        try:
            if not spec:
                raise TargetLoadError("the conformance suite needs --aico-target=package.module:factory")
            checked_identity(spec, timeout)
            config.stash[_LOADED] = load_target(spec, timeout=timeout)
        except TargetLoadError as exc:
            config.stash[_LOADED] = exc
    found = config.stash[_LOADED]
    if isinstance(found, TargetLoadError):
        if keep_error:
            return None
        raise found
    return found


def _in_suite(path: Path) -> bool:
    try:
        path.resolve().relative_to(suite_dir())
        return True
    except ValueError:
        return False


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    _configure_hypothesis(config)  # first: before the environment is redirected below
    _choose_hypothesis_seed(config)
    config.addinivalue_line("markers", "requirement(*ids): the catalog requirement IDs this conformance test checks")
    config.addinivalue_line("markers", "aico_profile(name): the least profile (quick/full/release) that runs this test")
    _validate_options(config)
    suite = suite_dir()
    paths = [Path(str(a).split("::")[0]).resolve() for a in config.args]
    whole_suite = any(p == suite or suite.is_relative_to(p) for p in paths if p.exists())
    if config.getoption("aico_target") and not whole_suite and not any(_in_suite(p) for p in paths):
        config.args.append(str(suite))
        whole_suite = True
    if config.getoption("aico_requirements"):
        whole_suite = False  # a selection of requirements is a partial run by definition
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(ConformanceRecorder(config, whole_suite), "aico-conformance-recorder")
    if target_spec(config):
        # Before the target is loaded (collection), in every process (each xdist worker has its own): a build
        # that writes to $HOME, $TMPDIR or an XDG directory writes where the suite can read (conform/writes.py).
        config.stash[_REDIRECTION] = writes.redirect_environment()
        writes.install_hook()


def pytest_unconfigure(config: pytest.Config) -> None:
    redirection = config.stash.get(_REDIRECTION, None)
    if redirection is not None:
        redirection.restore()
    _restore_cache_env(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    catalog: Catalog | None = None
    profile = PROFILES.index(config.getoption("aico_profile"))
    only = set(filter(None, (config.getoption("aico_requirements") or "").split(",")))
    from aico_secure.report import waivers

    not_run = waivers.not_run(_waivers(config), _today(config))  # run: false, and not expired
    timeout = pytest.mark.timeout(_test_timeout(config), method="signal" if hasattr(signal, "SIGALRM") else "thread")
    keep, drop = [], []
    for item in items:
        if not _in_suite(Path(str(item.path))):
            keep.append(item)
            continue
        catalog = catalog or load_catalog()
        ids = [i for m in item.iter_markers("requirement") for i in m.args]
        if not ids:
            raise pytest.UsageError(f"conformance test {item.nodeid} has no @pytest.mark.requirement")
        unknown = [i for i in ids if catalog.get(i) is None]
        if unknown:
            raise pytest.UsageError(f"conformance test {item.nodeid} names unknown requirement(s) {unknown}")
        marker = item.get_closest_marker("aico_profile")
        least = marker.args[0] if marker else "quick"
        if least not in PROFILES:
            raise pytest.UsageError(f"{item.nodeid}: unknown aico_profile {least!r}")
        if PROFILES.index(least) > profile or (only and not only & set(ids)) or set(ids) <= not_run:
            drop.append(item)
            continue
        item.user_properties.append((_REQ_PROP, ",".join(sorted(set(ids)))))
        if not config.pluginmanager.hasplugin("timeout"):
            raise pytest.UsageError("the conformance suite needs pytest-timeout active (it is disabled: "
                                    "add -p timeout) so a blocked test cannot hang the run")
        item.add_marker(timeout)
        keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    if catalog is not None and not config.option.collectonly and any(_in_suite(Path(str(i.path))) for i in keep):
        _loaded_target(config, keep_error=True)  # load now, outside any test's timeout


def _hypothesis_seed(config: pytest.Config) -> str | None:
    """The seed hypothesis ran with: given (``--hypothesis-seed``) or chosen for the run in
    ``pytest_configure``; None only when hypothesis's plugin is not active."""
    seed = getattr(config.option, "hypothesis_seed", None)
    return None if seed is None else str(seed)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # A build's own NotImplementedError (an optional operation it lacks) is "not implemented", as a missing capability.
    if call.excinfo is not None and call.excinfo.errisinstance((CapabilityMissing, NotImplementedError)):
        report.user_properties.append((_NOT_IMPLEMENTED_PROP, str(call.excinfo.value)))
    elif call.excinfo is not None and call.excinfo.errisinstance(pytest.fail.Exception) \
            and str(call.excinfo.value).startswith(_TIMEOUT_MESSAGE_PREFIX):
        seconds = _test_timeout(item.config)
        report.user_properties.append((_TIMEOUT_PROP, f"timed out in {call.when} after {seconds:g} s (--test-timeout)"))
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, None, None]:
    """Give a conformance test's teardown its own timeout. pytest-timeout arms one timer for the whole test and
    cancels it as soon as a phase fails (``pytest_exception_interact``) or fires; without this a build whose
    ``close()`` blocks after a failed or timed-out test would hang the run in teardown."""
    marker = item.get_closest_marker("timeout")
    if marker is not None and _in_suite(Path(str(item.path))) and item.config.pluginmanager.hasplugin("timeout"):
        import pytest_timeout

        settings = pytest_timeout.Settings(marker.args[0], marker.kwargs.get("method"), False, False)
        item.config.hook.pytest_timeout_set_timer(item=item, settings=settings)
    return (yield)


def _short_message(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or str(report.longrepr or "")
    text = text.strip().splitlines()[0] if text.strip() else ""
    return text[:500]


class ConformanceRecorder:
    """Lives on the controller only: collects per-test outcomes and writes the verdict."""

    def __init__(self, config: pytest.Config, whole_suite: bool) -> None:
        self.config = config
        # Only a run of the whole suite may call a requirement without tests "not tested" (and fail on it); a
        # developer's partial run reports just the requirements it touched.
        self.whole_suite = whole_suite
        self.results: dict[str, TestResult] = {}
        self._phases: dict[str, list[Outcome]] = {}
        self.started = datetime.now(UTC).isoformat(timespec="seconds")
        self.report_paths: list[Path] = []
        self.verdict_ok: bool | None = None
        self.interrupted = False
        self.regressions: list[str] = []
        self.failed_tests: set[str] = set()  # every failed test of the run, conformance or not

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = {str(k): str(v) for k, v in report.user_properties}
        if report.failed:
            self.failed_tests.add(report.nodeid)
        if _REQ_PROP not in props:
            return
        result = self.results.setdefault(
            report.nodeid, TestResult(report.nodeid, tuple(props[_REQ_PROP].split(",")), Outcome.NOT_RUN)
        )
        phases = self._phases.setdefault(report.nodeid, [])
        if report.failed:
            if _NOT_IMPLEMENTED_PROP in props:
                phases.append(Outcome.NOT_IMPLEMENTED)
            elif _TIMEOUT_PROP in props:
                phases.append(Outcome.ERROR)
            else:
                phases.append(Outcome.FAIL if report.when == "call" else Outcome.ERROR)
            if not result.message:
                result.message = props.get(_NOT_IMPLEMENTED_PROP) or props.get(_TIMEOUT_PROP) \
                    or _short_message(report)
        elif report.skipped:
            phases.append(Outcome.NOT_RUN)
            result.message = result.message or _short_message(report)
        elif report.when == "call":
            phases.append(Outcome.PASS)
        # A test passes only if its call phase passed and no phase did worse; setup alone is "not run".
        result.outcome = min(phases, key=_WORST_FIRST.index) if phases else Outcome.NOT_RUN
        result.duration += report.duration
        for key, value in report.user_properties:
            if key.startswith(_EVIDENCE_PREFIX):
                result.evidence[key[len(_EVIDENCE_PREFIX):]] = str(value)

    def build_report(self) -> Any:
        from aico_secure.report import provenance, waivers
        from aico_secure.report.model import Provenance, Report, SourceKind, SourceRun, TargetInfo

        spec = target_spec(self.config) or ""
        catalog = load_catalog()
        verdicts = aggregate(catalog, self.results.values())
        given = _waivers(self.config)
        if not self.whole_suite:
            # A requirement waived with run: false has no tests by design; list it when it was asked for.
            only = set(filter(None, (self.config.getoption("aico_requirements") or "").split(",")))
            skipped = waivers.not_run(given, _today(self.config)) & only
            verdicts = [v for v in verdicts if v.tests or v.requirement.id in skipped]
        applied = waivers.apply(verdicts, given, _today(self.config))
        verdicts = applied.verdicts
        notes = [] if self.whole_suite else ["partial run: only the requirements its tests touched are listed"]
        notes += applied.notes
        target = TargetInfo(spec, "unloadable", "unknown", {})
        try:
            identity = checked_identity(spec, _load_timeout(self.config))
            target = TargetInfo(spec, identity.name, identity.version, dict(identity.capabilities))
        except TargetLoadError as exc:
            notes.append(f"target cannot load, the run fails: {exc}")
        problems = []
        if not self.results:
            problems.append("no conformance test ran")
        if self.interrupted:
            problems.append("the run was interrupted before it finished")
        notes += [f"{p}: the run fails" for p in problems]
        origin: Provenance = provenance.collect(
            "conform", started_at=self.started, target=target, profile=self.config.getoption("aico_profile"),
            hypothesis_seed=_hypothesis_seed(self.config))
        source = SourceRun(SourceKind.CONFORM, origin, complete=not problems, problems=tuple(problems),
                           summary={"tests": len(self.results), "requirements": len(verdicts)})
        return Report(provenance=origin, verdicts=verdicts, sources=[source], waivers=applied.records, notes=notes)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.whole_suite and not self.results:
            return
        self.interrupted = session.exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldstop)
        report = self.build_report()
        self.report = report
        baseline = self.config.getoption("aico_baseline")
        if baseline:
            from aico_secure.report import document

            self.regressions = _regressions(document.load(Path(baseline)), report)
            report.notes.extend(f"regression against the baseline: {line}" for line in self.regressions)
        self.verdict_ok = report.ok and bool(self.results) and not self.interrupted and not self.regressions
        report_dir = self.config.getoption("aico_report_dir")
        if report_dir:
            formats = _report_formats(self.config)
            try:
                self.report_paths = write_reports(report, Path(report_dir), formats)
            except ReportWriteError as exc:
                # Exit 4 (usage/input), which aico-secure conform turns into 2: never 0, never a traceback.
                print(f"aico-secure conform: {exc}", file=sys.stderr, flush=True)
                session.exitstatus = pytest.ExitCode.USAGE_ERROR
                return
        if not self.verdict_ok and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif self.verdict_ok and session.exitstatus == pytest.ExitCode.TESTS_FAILED \
                and self.failed_tests <= set(self.results):
            # Every failed test is a conformance test whose requirement is waived (the verdict is ok): the
            # waiver is the accepted exception, so the run passes. A failed test outside the suite still fails.
            session.exitstatus = pytest.ExitCode.OK

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        report = getattr(self, "report", None)
        if report is None:
            return
        tr = terminalreporter
        tr.section("AICO conformance verdict")
        for v in report.verdicts:
            tr.write_line(f"{v.requirement.id:<13} {v.outcome.value:<16} {v.requirement.severity:<8} "
                          f"{len(v.tests)} test(s)")
        totals = ", ".join(f"{k}: {n}" for k, n in report.totals().items() if n)
        target = report.provenance.target
        tr.write_line(f"target {target.spec} ({target.name}), profile {report.provenance.profile}: "
                      f"{'PASS' if self.verdict_ok else 'FAIL'} ({totals})")
        for line in self.regressions:
            tr.write_line(f"regression against the baseline: {line}")
        for path in self.report_paths:
            tr.write_line(f"report written: {path}")


def _regressions(baseline: Any, report: Any) -> list[str]:
    """What got worse since ``baseline``, one line each, by the report comparison ``report diff`` uses
    (``aico_secure.report.diff``): a worse outcome, a requirement no longer judged, a new finding."""
    from aico_secure.report.diff import diff

    changes = diff(baseline, report)

    def shown(outcome: Outcome | None) -> str:
        return outcome.value if outcome else "absent"

    lines = [f"{c.requirement} {shown(c.old)} -> {shown(c.new)} ({c.reason})" for c in changes.regressions]
    lines += [f"new finding {f.rule_id} ({f.severity}) {f.path or '-'}" for f in changes.new_findings]
    return lines


# ---- fixtures every conformance test can use ---------------------------------------------------------------
@pytest.fixture(scope="session")
def aico_target(request: pytest.FixtureRequest) -> Target:
    """The build (see ``_loaded_target``); a build that cannot load fails every test that needs it, one line."""
    try:
        target = _loaded_target(request.config)
    except TargetLoadError as exc:
        pytest.fail(str(exc), pytrace=False)
    assert target is not None
    return target


@pytest.fixture(scope="session")
def aico_profile(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("aico_profile"))


@pytest.fixture(scope="session")
def fast_kdf(aico_profile: str) -> bool:
    """Quick and full runs ask builds for their cheap test KDF; a release run never does."""
    return aico_profile != "release"


@pytest.fixture
def keys(aico_target: Target) -> KeysCapability:
    capability = aico_target.require("keys")
    assert isinstance(capability, KeysCapability), "target.keys does not implement KeysCapability"
    return capability


@pytest.fixture
def password() -> str:
    """A random passphrase shaped like a user's (``aico_secure.conform.passphrases``): no redactor can spot it by
    shape and no strength policy has reason to refuse it."""
    return passphrase()


@pytest.fixture
def key_session(keys: KeysCapability, tmp_path: Path, password: str, fast_kdf: bool) -> Iterator[KeySession]:
    session = keys.create(tmp_path / "keys", password, fast_kdf=fast_kdf)
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def fresh_keys(request: pytest.FixtureRequest) -> Callable[[], KeysCapability]:
    """A new instance of the build's keys capability, as after a process restart: loaded again from the
    factory, so nothing a capability object keeps in memory carries over."""

    def load() -> KeysCapability:
        spec = target_spec(request.config)
        assert spec, "no --aico-target: cannot load a fresh instance of the build"
        capability = load_target(spec).require("keys")
        assert isinstance(capability, KeysCapability), "target.keys does not implement KeysCapability"
        return capability

    return load


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Callable[[str, object], None]:
    """Record a fact for the auditor's report: ``evidence("files scanned", 12)``."""

    def record(key: str, value: object) -> None:
        request.node.user_properties.append((_EVIDENCE_PREFIX + key, str(value)))

    return record
