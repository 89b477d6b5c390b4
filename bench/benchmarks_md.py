"""docs/benchmarks.md is shared by every bench: each writes its own section between its markers."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(name: str, text: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the section between ``<!-- {name}:start -->`` and ``<!-- {name}:end -->`` (appended if absent)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    content = path.read_text() if path.exists() else "# Benchmarks\n"
    if start in content and end in content:
        before, rest = content.split(start, 1)
        content = f"{before}{start}\n{text}\n{end}{rest.split(end, 1)[1]}"
    else:
        content = content.rstrip("\n") + f"\n\n{start}\n{text}\n{end}\n"
    path.write_text(content)
