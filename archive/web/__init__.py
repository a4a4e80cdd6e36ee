"""The read-only web interface (`govarchive serve`): search, reports, versions, archived originals,
attachments, Atom feeds and a JSON API over a govarchive database and its WARC files.

`archive.web.app.create_app` builds the ASGI application. Nothing is imported here, so the CLI can
name the command without loading the web framework.
"""
