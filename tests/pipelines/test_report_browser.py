"""The report in a real headless browser (Debian's chromium, over the DevTools protocol): no console error, no
request to anything but the file itself, every chart drawn, tabs and the assistant search working."""

from __future__ import annotations

import json

import pytest
from evolving_nights import evolving_nights
from headless_chromium import Chromium, find_chromium

from assistants_export.pipelines.cli import run

pytestmark = pytest.mark.skipif(find_chromium() is None,
                                reason="chromium is not installed: `make system-deps` installs it (Debian, as root)")


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("report_browser") / "wh"
    evolving_nights(root, n=30, nights=3, seed=11)
    out = root.parent / "report.html"
    assert run(["report", "-o", str(out), "--warehouse", str(root)]) == 0
    timelines = json.loads(out.read_text().split('id="timelines-data">', 1)[1].split("</script>", 1)[0])
    with Chromium() as browser:
        browser.open(out.as_uri())
        yield browser, out, timelines


def test_the_page_loads_with_no_error_and_no_request(browser_page):
    browser, out, _ = browser_page
    assert browser.evaluate("document.readyState") == "complete"
    assert browser.errors() == []
    assert browser.requests() == [out.as_uri()]


def test_every_chart_is_drawn_with_marks(browser_page):
    browser, _, _ = browser_page
    charts = browser.evaluate("Array.from(document.querySelectorAll('svg.chart')).map(s => [s.dataset.chart, "
                              "s.querySelectorAll('.mark').length, s.querySelector('title').textContent])")
    assert [name for name, _, _ in charts] == [
        "fleet_by_model", "creations_deletions", "changes_by_field", "most_changed", "timeline", "tool_types",
        "shared_functions", "shared_resources", "migration_readiness", "migration_warnings", "run_requests",
        "run_errors"]
    assert all(marks > 0 and title for _, marks, title in charts), charts
    # Drawn, not only present: the visible tab's charts have a size on screen.
    size = browser.evaluate("(() => { const r = document.querySelector('svg[data-chart=fleet_by_model] .mark')"
                            ".getBoundingClientRect(); return [r.width, r.height]; })()")
    assert size[0] > 100 and size[1] > 20


def test_tabs_show_one_section_at_a_time(browser_page):
    browser, _, _ = browser_page
    browser.evaluate("document.querySelector('button[data-tab=runs]').click()")
    shown = browser.evaluate("Array.from(document.querySelectorAll('section')).filter(s => !s.hidden)"
                             ".map(s => s.id)")
    assert shown == ["section-runs"]
    browser.evaluate("document.querySelector('#section-runs details').open = true")
    assert browser.evaluate("document.querySelector('#section-runs details table tbody tr') !== null")
    assert browser.errors() == []


def test_the_assistant_search_finds_by_id_and_name_and_draws_the_timeline(browser_page):
    browser, _, timelines = browser_page
    browser.evaluate("document.querySelector('button[data-tab=timelines]').click()")
    key, wanted = max(timelines.items(), key=lambda item: (len(item[1]["v"]), item[0]))
    assert len(wanted["v"]) > 1
    found = browser.evaluate(f"window.reportSearch({json.dumps(wanted['i'])})")
    assert found == [key]
    assert browser.evaluate("document.getElementById('timeline').dataset.shown") == key
    bars = browser.evaluate("document.querySelectorAll('#timeline svg rect.mark').length")
    assert bars == len(wanted["v"])
    dots = browser.evaluate("document.querySelectorAll('#timeline svg circle.mark').length")
    assert dots == len({c[0] for c in wanted["c"]})
    fields = browser.evaluate("Array.from(document.querySelectorAll('#timeline tbody td:first-child'))"
                              ".map(td => td.textContent)")
    assert fields == [c[2] for c in wanted["c"] if len(c) > 2]
    name = wanted["n"]
    by_name = browser.evaluate(f"window.reportSearch({json.dumps(name.upper()[2:9])})")
    assert key in by_name
    assert browser.evaluate("document.getElementById('search-count').textContent") == f"{len(by_name)} match" + (
        "" if len(by_name) == 1 else "es")
    assert browser.evaluate("window.reportSearch('no assistant is called this')") == []
    assert browser.evaluate("document.getElementById('search-count').textContent") == "0 matches"
    assert browser.errors() == []
