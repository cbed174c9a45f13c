"""Reports to take away: each page's answer, its chart and key figures, every assumption and
how to reproduce the numbers, as one HTML file, a PDF or a PowerPoint deck (issue 15).

Build `PageAnswer`s from what the pages show, `assumptions_from_scenario(scenario)` and a
`ReportMeta`, then call `report_html`, `report_pdf` or `report_pptx` (each returns bytes);
`report_filename` and `MIME_TYPES` name the download. Nothing here uses Streamlit.
"""

from ui.report.html import report_html
from ui.report.model import (
    MIME_TYPES,
    Assumption,
    Figure,
    PageAnswer,
    ReportError,
    ReportMeta,
    app_version,
    assumptions_from_scenario,
    describe_assumption,
    report_filename,
)
from ui.report.pdf import report_pdf
from ui.report.slides import report_pptx

__all__ = [
    "MIME_TYPES",
    "Assumption",
    "Figure",
    "PageAnswer",
    "ReportError",
    "ReportMeta",
    "app_version",
    "assumptions_from_scenario",
    "describe_assumption",
    "report_filename",
    "report_html",
    "report_pdf",
    "report_pptx",
]
