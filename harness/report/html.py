"""report.html: one self-contained page (inline CSS and SVG plots) that renders offline, no fetches."""

from __future__ import annotations

from html import escape

from harness.report.figures import Plot, plots
from harness.report.model import Run
from harness.report.sections import Section, sections

STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; }
td:not(:first-child) { text-align: right; }
figure.plot { display: inline-block; margin: 0.5em; }
figure.plot svg { max-width: 100%; height: auto; }
"""


def report_html(run: Run, drawn: list[Plot] | None = None) -> str:
    """The page: title, plots, then the tables of ``sections``."""
    figures = "\n".join(_figure(plot) for plot in (plots(run) if drawn is None else drawn))
    tables = "\n".join(_section(section) for section in sections(run))
    title = escape(f"Run {run.run_id} ({run.status})")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head>\n<body><h1>{title}</h1>\n<h2>Plots</h2>\n{figures}\n{tables}\n"
            "</body></html>\n")


def _figure(plot: Plot) -> str:
    return f'<figure class="plot" data-title="{escape(plot.title)}">{plot.svg}</figure>'


def _section(section: Section) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in section.header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in section.rows)
    return f"<h2>{escape(section.title)}</h2>\n<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
