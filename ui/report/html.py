"""The report as one self-contained HTML file: opens offline, prints cleanly.

Charts are PNG pictures inside the file (base64 data URIs, drawn by vl-convert), styles are
inline and the fonts are the reader's own sans-serif, so the file needs no network. The only web
address in it is the share link.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

import altair as alt

from ui.report.model import (
    ASSUMPTION_WIDTH,
    CHART_WIDTH,
    Assumption,
    PageAnswer,
    ReportMeta,
    picture,
    table_cells,
)

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 960px; margin: 0 auto; padding: 32px 24px 64px; }
header h1 { font-size: 1.9rem; margin: 0 0 4px; }
header p { margin: 2px 0; color: #444; }
section.answer { border-top: 2px solid #1f5fa8; margin-top: 36px; padding-top: 12px; }
section.answer h2 { font-size: 1rem; text-transform: uppercase; letter-spacing: .06em;
                    color: #1f5fa8; margin: 0 0 6px; }
p.decision { font-size: 1.45rem; font-weight: 650; margin: 0 0 14px; }
ul.figures { list-style: none; display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px;
             padding: 0; margin: 0 0 16px; }
ul.figures li { border: 1px solid #d5dce6; border-radius: 6px; padding: 8px 10px; }
.figure-value { display: block; font-size: 1.35rem; font-weight: 650; }
.figure-label { display: block; font-size: .85rem; color: #444; }
figure { margin: 0 0 14px; }
figure img { display: block; max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #444; margin-bottom: 4px; }
p.detail { margin: 0 0 14px; }
table { border-collapse: collapse; font-size: .88rem; margin: 0 0 12px; width: 100%; }
th, td { border-bottom: 1px solid #d5dce6; padding: 4px 8px; text-align: left;
         vertical-align: top; }
th { background: #f1f4f8; }
section.appendix h2 { font-size: 1.3rem; margin: 0 0 8px; }
section.appendix { border-top: 2px solid #444; margin-top: 40px; padding-top: 12px; }
td img { display: block; width: 220px; height: auto; }
a { color: #1f5fa8; word-break: break-all; }
@media print {
  @page { size: A4; margin: 16mm 14mm; }
  main { max-width: none; padding: 0; }
  body { font-size: 10.5pt; }
  section.answer, section.appendix { break-before: page; border-top: none; margin-top: 0; }
  figure, ul.figures, tr, p.decision { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
@media (max-width: 700px) { ul.figures { grid-template-columns: repeat(2, 1fr); } }
"""


def _img(chart: alt.TopLevelMixin, alt_text: str, width: int) -> str:
    data = base64.b64encode(picture(chart, f"The chart “{alt_text}”", width=width)).decode(
        "ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt_text)}">'


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _answer(answer: PageAnswer) -> str:
    parts = [f'<section class="answer"><h2>{escape(answer.title)}</h2>',
             f'<p class="decision">{escape(answer.decision)}</p>']
    if answer.figures:
        items = "".join(f'<li><span class="figure-value">{escape(f.value_text)}</span>'
                        f'<span class="figure-label">{escape(f.label)}</span></li>'
                        for f in answer.figures)
        parts.append(f'<ul class="figures">{items}</ul>')
    if answer.chart is not None:
        caption = (f"<figcaption>{escape(answer.chart_title)}</figcaption>"
                   if answer.chart_title else "")
        parts.append(f"<figure>{caption}"
                     f"{_img(answer.chart, answer.chart_title or answer.title, CHART_WIDTH)}"
                     "</figure>")
    if answer.detail:
        parts.append(f'<p class="detail">{escape(answer.detail)}</p>')
    if answer.table is not None and len(answer.table):
        parts.append(_table(*table_cells(answer.table)))
    parts.append("</section>")
    return "\n".join(parts)


def _appendix(assumptions: Sequence[Assumption], meta: ReportMeta) -> str:
    rows = []
    for item in assumptions:
        picture = (_img(item.chart, f"Distribution of {item.label}", ASSUMPTION_WIDTH)
                   if item.chart is not None else "")
        rows.append(f"<tr><td>{escape(item.label)}</td><td>{escape(item.value_text)}</td>"
                    f"<td>{picture}</td></tr>")
    if rows:
        assumptions_html = ("<table><thead><tr><th>Input</th><th>Range</th><th>Draws</th>"
                            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    else:
        assumptions_html = "<p>Every input of this scenario is a fixed number.</p>"
    reproduce = []
    for label, text in meta.reproduce_lines():
        if label == "Share link":
            link = escape(text, quote=True)
            text_html = f'<a href="{link}">{escape(text)}</a>'
        else:
            text_html = escape(text)
        reproduce.append(f"<tr><th>{escape(label)}</th><td>{text_html}</td></tr>")
    return ('<section class="appendix"><h2>Appendix: assumptions</h2>'
            "<p>Every uncertain input of the scenario. A 90% range runs from the 5th to the "
            "95th percentile: nine futures in ten draw a value inside it.</p>"
            f"{assumptions_html}"
            "<h2>Reproduce these numbers</h2>"
            "<p>The same scenario, seed and trials give the same numbers; the share link "
            "opens the app on them.</p>"
            f"<table><tbody>{''.join(reproduce)}</tbody></table></section>")


def report_html(answers: Sequence[PageAnswer], assumptions: Sequence[Assumption],
                meta: ReportMeta) -> bytes:
    """Return the report as one UTF-8 HTML file that opens offline: each answer with its key
    figures, chart (a PNG inside the file) and table, then every assumption and how to
    reproduce the numbers (seed, trials, date, app version, share link)."""
    title = f"Funnel Lab report: {meta.scenario_name}"
    header = (f"<header><h1>{escape(title)}</h1>"
              f"<p>{meta.trials:,} simulated futures over {meta.horizon} months · seed "
              f"{meta.seed} · made on {escape(meta.created_text)} · app version "
              f"{escape(meta.app_version)}</p></header>")
    body = "\n".join([header, *(_answer(answer) for answer in answers),
                      _appendix(assumptions, meta)])
    document = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                f"<title>{escape(title)}</title><style>{_CSS}</style></head>"
                f"<body><main>\n{body}\n</main></body></html>\n")
    return document.encode("utf-8")
