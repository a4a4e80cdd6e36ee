"""Console entry point: archive's CLI plus the `crawl` verb, which needs Scrapy."""

from __future__ import annotations

from archive.cli import cli, main  # noqa: F401  (main is the console script)
