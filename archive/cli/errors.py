"""The one error handler of the `govarchive` command (DESIGN.md, CLI contract).

Every command's failure leaves through `GovarchiveGroup.main`: one line on stderr (`Error: …`, naming
the file, URL or offset concerned), exit 1 for failures, 2 for usage errors, 130 when interrupted.
Tracebacks are for bug reports only: `-v` on any command, or `GOVARCHIVE_DEBUG=1`, prints them.

A reader that leaves early (`govarchive search … | head -3`) ends a command quietly with 141, the
status of a Unix tool killed by SIGPIPE; stderr only carries messages, so once its reader has left
they go to /dev/null and the command (a crawl: its archive and its run record) carries on to its end.
"""

from __future__ import annotations

import os
import re
import select
import signal
import sys
import traceback
from collections.abc import Sequence
from typing import Any

import click

DEBUG_ENV = "GOVARCHIVE_DEBUG"
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
EXIT_READER_LEFT = 128 + signal.SIGPIPE  # 141, as the shell reports a tool that SIGPIPE ended
_BACKGROUND = re.compile(r"\(Background on this error at: [^)]*\)")
_verbose = False


def _set_verbose(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    global _verbose
    if value:
        _verbose = True


def verbose_option() -> click.Option:
    return click.Option(
        ["-v", "--verbose"],
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbose,
        help=f"On an error, also print the traceback (for bug reports; also ${DEBUG_ENV}=1).",
    )


def show_tracebacks() -> bool:
    return _verbose or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no", "off")


def one_line(text: str) -> str:
    """A message on one line: SQLAlchemy's background link dropped, line breaks joined with '; '."""
    lines = [" ".join(line.split()) for line in _BACKGROUND.sub("", str(text)).splitlines()]
    return "; ".join(line for line in lines if line) or "unknown error"


def describe(exc: BaseException) -> str:
    """One line saying what went wrong, for an exception no command turned into a message."""
    from sqlalchemy.exc import SQLAlchemyError

    from archive.store.engine import db_error_text

    if isinstance(exc, SQLAlchemyError):
        return f"database error: {db_error_text(exc)}"
    if isinstance(exc, OSError) and exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 is not None else str(exc.filename)
        return f"{target}: {exc.strerror or exc.__class__.__name__}"
    text = str(exc)
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


def _add_verbose(command: click.Command) -> None:
    """Give the command (and a group's subcommands) the -v option, once."""
    if not any(isinstance(p, click.Option) and "--verbose" in p.opts for p in command.params):
        command.params.append(verbose_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_verbose(sub)


class GovarchiveGroup(click.Group):
    """The root group: adds -v to every command and routes every error through one handler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(verbose_option())

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _add_verbose(cmd)
        super().add_command(cmd, name)

    def invoke(self, ctx: click.Context) -> Any:
        """The command; its reader leaving (`export | head`) ends it with 141 and nothing more said
        (click's own answer to a closed pipe would be exit 1, a failure)."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:
            if not _stdout_reader_left():  # a socket's (a server that hung up): an error, said as one
                raise click.ClickException(one_line(describe(exc))) from exc
            _to_devnull(sys.stdout)
            raise click.exceptions.Exit(EXIT_READER_LEFT) from None

    def main(  # type: ignore[override]
        self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any
    ) -> None:
        global _verbose
        _verbose = False
        extra.pop("standalone_mode", None)
        stderr = sys.stderr
        sys.stderr = MessageStream(stderr)  # type: ignore[assignment]
        try:
            code = run_handled(lambda: super(GovarchiveGroup, self).main(
                args=args, prog_name=prog_name, standalone_mode=False, **extra
            ), prog_name or "govarchive")
        finally:
            sys.stderr = stderr
        sys.exit(code)


class MessageStream:
    """stderr, whose reader may leave (`crawl … 2>&1 | head -3`): from then on what is written goes to
    /dev/null instead of raising, so no message (a progress line, a log record, the summary) can stop
    a command half-way or leave a crawl's reactor hanging."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            _to_devnull(self._stream)
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            _to_devnull(self._stream)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def run_handled(call: Any, prog_name: str) -> int:
    """Run `call` (the click main in non-standalone mode); the exit code, errors printed as one line."""
    try:
        result = call()
    except click.exceptions.NoArgsIsHelpError as exc:  # `govarchive`, `govarchive db`: the help, as is
        exc.show()
        return EXIT_USAGE
    except click.UsageError as exc:
        ctx = exc.ctx
        where = ctx.command_path if ctx is not None else prog_name
        _error(f"{one_line(exc.format_message())} (see '{where} --help')")
        return EXIT_USAGE
    except click.ClickException as exc:
        if show_tracebacks() and exc.__cause__ is not None:
            traceback.print_exception(exc.__cause__, file=sys.stderr)
        _error(one_line(exc.format_message()))
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        click.echo("\ninterrupted", err=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if show_tracebacks():
            traceback.print_exception(exc, file=sys.stderr)
            _error(one_line(describe(exc)))
        elif isinstance(exc, OSError):  # a file or the network: the message is the whole story
            _error(one_line(describe(exc)))
        else:  # unexpected: most likely a bug, worth a report with the traceback
            _error(f"{one_line(describe(exc))} (run with -v for the traceback)")
        return EXIT_FAILED
    return result if isinstance(result, int) else 0


def _error(message: str) -> None:
    click.echo(f"Error: {message}", err=True)


def _stdout_reader_left() -> bool:
    """Whether stdout is a pipe whose reader has gone (poll says POLLERR); a stream without a
    descriptor (tests' capture) is taken at its word."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _to_devnull(stream: Any) -> None:
    """Point the stream's file descriptor at /dev/null: its reader has left, and the interpreter's
    final flush must not fail again (a stream without a descriptor, as in tests, is left alone)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
