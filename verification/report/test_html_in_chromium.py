"""The HTML report as an auditor sees it: opened from disk in a real (headless) Chromium, offline.

Asserts on what is visible, not on the markup: the verdict, the rows, that the outcome filter hides passing rows
and shows failing ones, that a hostile test name is shown as text and runs nothing, that the page asks the
network for nothing and logs no error (a CSP violation would be one). Debian's Chromium is driven through
Playwright's Python API; Playwright's own browser download is never used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, Request, Route, sync_playwright

from aico_secure.conform.outcomes import Outcome
from aico_secure.report import formats
from verification.report.test_formats import HOSTILE, merged_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
                    "this test must not be skipped", pytrace=False)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Opened:
    """A page of the rendered report with everything that happened to it recorded."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.outside: list[str] = []
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []


def _open(browser: Browser, context_holder: list[BrowserContext], path: Path) -> Opened:
    context = browser.new_context(offline=True, java_script_enabled=True)
    context_holder.append(context)
    page = context.new_page()
    seen = Opened(page)

    def route(r: Route, request: Request) -> None:
        if request.url.startswith("file://"):
            r.continue_()
        else:
            seen.outside.append(request.url)
            r.abort()

    def dialog(d: Dialog) -> None:
        seen.dialogs.append(d.message)
        d.dismiss()

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            seen.console_errors.append(f"{message.type}: {message.text}")

    context.route("**/*", route)
    page.on("dialog", dialog)
    page.on("console", console)
    page.on("pageerror", lambda exc: seen.page_errors.append(str(exc)))
    page.goto(path.as_uri(), wait_until="load")
    return seen


@pytest.fixture
def opened(browser: Browser, tmp_path: Path) -> Iterator[Opened]:
    path = tmp_path / "report.html"
    path.write_text(formats.get("html").render(merged_report()), encoding="utf-8")
    contexts: list[BrowserContext] = []
    try:
        seen = _open(browser, contexts, path)
        yield seen
    finally:
        for context in contexts:
            context.close()
    assert seen.outside == [], f"the page asked the network for {seen.outside}"
    assert seen.dialogs == [], f"a dialog fired: {seen.dialogs}"
    assert seen.console_errors == [], seen.console_errors
    assert seen.page_errors == [], seen.page_errors


def _visible_matrix_rows(page: Page) -> list[str]:
    rows = page.locator("#matrix-table tbody tr")
    return [rows.nth(i).get_attribute("data-outcome") or "" for i in range(rows.count()) if rows.nth(i).is_visible()]


def test_the_verdict_and_every_row_are_visible(opened: Opened) -> None:
    page = opened.page
    report = merged_report()
    verdict = page.locator("#verdict")
    assert verdict.is_visible() and verdict.inner_text() == "Verdict: FAIL"
    assert page.title() == "AICO security report: FAIL"
    assert len(_visible_matrix_rows(page)) == len(report.trace())
    assert page.locator("#matrix-table-count").inner_text() == f"{len(report.trace())} of {len(report.trace())} shown"
    assert page.locator("#findings-table tbody tr:visible").count() == len(report.findings)
    assert page.get_by_text("EXPIRED: NOT honoured").first.is_visible()


def test_the_outcome_filter_hides_passing_rows_and_shows_failing_ones(opened: Opened) -> None:
    page = opened.page
    before = _visible_matrix_rows(page)
    assert before.count(Outcome.PASS.value) == 2
    page.select_option("#f-outcome", "fail")
    after = _visible_matrix_rows(page)
    assert after == [Outcome.FAIL.value, Outcome.FAIL.value]
    page.select_option("#f-outcome", "not-ok")
    not_ok = _visible_matrix_rows(page)
    # "needs attention": every row not met, plus a met one only when a finding stands against it
    report = merged_report()
    assert not_ok.count(Outcome.PASS.value) == sum(1 for r in report.trace()
                                                   if r.outcome is Outcome.PASS and r.findings) == 1
    assert Outcome.WAIVED.value not in not_ok
    assert {"fail", "error", "not implemented", "not run", "not tested", "no verdict"} <= set(not_ok)
    page.select_option("#f-outcome", "")
    assert _visible_matrix_rows(page) == before


def test_severity_area_and_text_filters_narrow_both_tables(opened: Opened) -> None:
    page = opened.page
    report = merged_report()
    page.select_option("#f-severity", "critical")
    critical = [f for f in report.findings if f.severity == "critical"]
    assert page.locator("#findings-table tbody tr:visible").count() == len(critical)
    page.select_option("#f-severity", "")
    area = report.verdicts[0].requirement.area
    page.select_option("#f-area", area)
    expected = sum(1 for row in report.trace() if row.requirement.area == area)
    assert len(_visible_matrix_rows(page)) == expected
    page.select_option("#f-area", "")
    page.fill("#f-text", "jane auditor")
    assert _visible_matrix_rows(page) == [Outcome.WAIVED.value]


def test_a_hostile_string_is_shown_as_text_and_runs_nothing(opened: Opened) -> None:
    page = opened.page
    assert page.locator("script").count() == 1  # the report's own script only
    assert page.locator("a[href^='http']").count() == 0
    shown = page.locator("#findings-table").inner_text()
    assert "<script>alert(1)</script>" in shown
    assert HOSTILE.split("\n")[0].strip() in page.locator("body").inner_text()


def test_the_watchers_catch_a_page_that_loads_or_runs_something(browser: Browser, tmp_path: Path) -> None:
    """Negative control: the same watchers, on a doctored copy of the report that loads an image from the
    network and runs an inline alert, do record it; so a clean result above means something."""
    page = formats.get("html").render(merged_report())
    doctored = page.replace("</body>", '<img src="http://127.0.0.1:9/x.png"><script>alert("x")</script></body>')
    path = tmp_path / "doctored.html"
    path.write_text(doctored, encoding="utf-8")
    contexts: list[BrowserContext] = []
    try:
        seen = _open(browser, contexts, path)
        seen.page.wait_for_timeout(200)
    finally:
        for context in contexts:
            context.close()
    assert seen.dialogs == ["x"]
    assert seen.outside or seen.console_errors  # the CSP refuses the image, or the router sees it
