"""The `govarchive` command: a thin click dispatcher over the archive library.

Each verb lives in its own module and exports its click commands in `COMMANDS`; the `crawl` verb is
added by `crawler.cli`, so this package never imports Scrapy. Every command's errors leave through
the one handler of `archive.cli.errors` (one line, exit 1 or 2 for usage; `-v` for the traceback).
"""

from __future__ import annotations

import click

from archive import __version__
from archive.cli import db_cmds, extract_cmd, reprocess_cmd, runs_cmd, search_cmds, serve_cmd, warc_cmds
from archive.cli.errors import GovarchiveGroup


@click.group(cls=GovarchiveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="govarchive")
def cli() -> None:
    """Archive Chinese government disclosure sites: crawl, clean, store, search, replay.

    Exit status: 0 done, 1 failed, 2 usage error, 130 interrupted. Errors are one line on stderr;
    -v (on any command) or GOVARCHIVE_DEBUG=1 also prints the traceback.
    """


for _module in (extract_cmd, search_cmds, db_cmds, reprocess_cmd, runs_cmd, warc_cmds, serve_cmd):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(args: list[str] | None = None) -> None:
    cli.main(args=args, prog_name="govarchive")
