"""What every route of the web interface shares: the WebArchive it reads from and the errors it raises.

Apart from `archive.web.app`, which builds the application from the route modules, so that those
modules never import the application they are part of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from archive.store import Store
from archive.web.replay_link import ReplayLink
from archive.web.warcfiles import WarcFiles


class NotFound(LookupError):
    """Nothing at this address (unknown report, attachment, feed); the message says what is missing."""


class BadRequest(ValueError):
    """A parameter the server cannot use; the message says which and why."""


@dataclass
class WebArchive:
    """What every route needs: the store, the WARC files, the replay link and the templates."""

    store: Store
    warcs: WarcFiles
    replay: ReplayLink
    templates: Environment

    def render(self, name: str, status_code: int = 200, **context) -> HTMLResponse:
        html = self.templates.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status_code)


def archive_of(request: Request) -> WebArchive:
    return request.app.state.archive


Archive = Annotated[WebArchive, Depends(archive_of)]  # what a route declares to get the WebArchive
