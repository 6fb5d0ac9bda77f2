"""summary.md: the report's tables as GitHub-flavoured Markdown."""

from __future__ import annotations

from harness.report.model import Run
from harness.report.sections import sections


def summary_markdown(run: Run) -> str:
    parts = [f"# Run {run.run_id} ({run.status})"]
    parts += [f"## {s.title}\n\n{table(s.header, s.rows)}" for s in sections(run)]
    return "\n\n".join(parts) + "\n"


def table(header: list[str], rows: list[list[str]]) -> str:
    """First column left-aligned, the others right-aligned (figures)."""
    lines = ["| " + " | ".join(_cell(c) for c in header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
