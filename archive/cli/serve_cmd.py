"""`govarchive serve`: the read-only web interface and JSON API, served by uvicorn.

Everything that can fail is checked before the address is announced: the database must exist
(a read-only command never creates one), and the socket is bound here, so a port in use or an
address that is not this machine's is a one-line error instead of a server that never answers.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from pathlib import Path

import click

from archive.cli.search_cmds import DB_OPTION
from archive.config import default_warc_dir
from archive.warc.replay import COLLECTION

DEFAULT_REPLAY_URL = f"http://127.0.0.1:8080/{COLLECTION}/"  # where `govarchive replay` serves by default


class ServeUsageError(click.ClickException):
    """A bad option value, said in one line (exit 2, as for every usage error)."""

    exit_code = 2


@click.command("serve")
@DB_OPTION
@click.option(
    "--warc-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory of the WARC files (archived originals, attachments) [default: ./data/warc/].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default="8000", show_default=True, help="Port to listen on (0: any free port).")
@click.option(
    "--replay-url",
    default=DEFAULT_REPLAY_URL,
    show_default=True,
    help="pywb collection URL of `govarchive replay`; reports link there while it answers ('' for none).",
)
def serve_cmd(db_url: str, warc_dir: Path | None, host: str, port: str, replay_url: str) -> None:
    """Serve a read-only web interface and JSON API over the archive.

    Search and read reports, their versions, attachments and archived originals in a browser, no
    JavaScript needed. Binds 127.0.0.1 unless told otherwise. Ctrl-C stops.

    Example: govarchive serve --db sqlite:///data/govarchive.db --port 8000
    """
    import uvicorn

    from archive.store import StoreError, open_existing_store
    from archive.store.engine import shown_url as safe_url
    from archive.web.app import create_app
    from archive.web.security import LOOPBACK_HOSTS

    port_number = _port(port)
    try:
        store = open_existing_store(db_url)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        sock = _listen(host, port_number)
    except OSError as exc:
        store.close()
        raise click.ClickException(f"cannot listen on {_hostport(host, port_number)}: {exc.strerror or exc}") from exc
    directory = warc_dir or default_warc_dir()
    if not directory.is_dir():
        click.echo(f"warning: WARC directory not found: {directory} (archived originals and attachments "
                   "will be unavailable; give --warc-dir)", err=True)
    loopback = _is_loopback(host)
    allowed = [*LOOPBACK_HOSTS, host] if loopback else None
    app = create_app(store, directory, replay_url=replay_url or None, allowed_hosts=allowed)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    if not loopback:
        click.echo(f"warning: listening on {host}: anyone who can reach this machine can read the archive",
                   err=True)
    click.echo(f"serving {safe_url(db_url)} at http://{_hostport(host, bound)}/ (Ctrl-C stops)", err=True)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        sock.close()
        store.close()


def _port(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise ServeUsageError(f"--port must be a number from 0 to 65535, not {value!r}") from None
    if not 0 <= number <= 65535:
        raise ServeUsageError(f"--port must be a number from 0 to 65535, not {number}")
    return number


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (IPv4 or IPv6); OSError says why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise OSError(exc.errno, f"unknown host {host!r} ({exc.strerror})") from exc
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart right after a stop
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


COMMANDS: list[click.Command] = [serve_cmd]
