"""The audit report: one self-contained HTML file with charts of the warehouse's history (``assistants-export report``).

:mod:`.data` runs the queries of ``sql/report/`` over a read-only session, :mod:`.svg` draws the charts as SVG on
the server side, :mod:`.page` writes the HTML page (inline CSS and a little inline JavaScript, no request to any
host). :func:`build_report` ties them together.
"""

from .build import build_report
from .data import ReportData, ReportRange, collect, resolve_range
from .page import render_html

__all__ = ["ReportData", "ReportRange", "build_report", "collect", "render_html", "resolve_range"]
