"""How long `viewtrail import` takes for a file of 10,000 video URLs (mixed platforms and URL forms).

Runs the real command (the installed typer app, in process) against a fresh temporary warehouse, twice:
a first import (all new) and a re-import (all already tracked). Prints seconds for each.

    .venv/bin/python bench/import_throughput.py
    .venv/bin/python bench/import_throughput.py --urls 100000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def make_urls(n: int) -> list[str]:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    def code(i: int, length: int) -> str:
        chars = []
        for _ in range(length):
            i, r = divmod(i, len(alphabet))
            chars.append(alphabet[r])
        return "".join(chars)

    urls = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            urls.append(f"https://www.tiktok.com/@creator{i % 500}/video/{7_200_000_000_000_000_000 + i}?lang=en")
        elif kind == 1:
            urls.append(f"https://www.youtube.com/watch?v={code(i * 7919, 11)}&t=3s")
        elif kind == 2:
            urls.append(f"https://www.instagram.com/reel/{code(i * 104729, 11)}/?igsh=x")
        else:
            urls.append(f"https://x.com/user{i % 300}/status/{1_790_000_000_000_000_000 + i}")
    return urls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--urls", type=int, default=10_000, help="number of URLs in the file (default 10000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ.update(
            VIEWTRAIL_DATA_DIR=str(root), VIEWTRAIL_WAREHOUSE=str(root / "warehouse.duckdb"), VIEWTRAIL_OFFLINE="1"
        )
        file = root / "urls.txt"
        file.write_text("\n".join(make_urls(args.urls)) + "\n")
        from typer.testing import CliRunner

        from viewtrail.cli import app

        runner = CliRunner()
        for label in ("first import", "re-import"):
            started = time.perf_counter()
            result = runner.invoke(app, ["import", str(file)])
            seconds = time.perf_counter() - started
            if result.exit_code != 0:
                print(result.output, file=sys.stderr)
                return 1
            print(
                f"{label}: {args.urls} URLs in {seconds:.2f} s ({args.urls / seconds:,.0f} URLs/s) - "
                f"{result.stdout.strip()}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
