"""The read-only web interface (`govarchive serve`): search, reports, versions, archived originals,
attachments, Atom feeds and a JSON API over a govarchive database and its WARC files."""

from archive.web.app import create_app

__all__ = ["create_app"]
