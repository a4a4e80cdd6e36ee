"""The one error extraction raises."""

from __future__ import annotations


class ExtractionError(ValueError):
    """The input cannot be made a report: empty, binary, unparsable, nothing recognisable, or (in a
    worker) too slow or crashing.

    `kind` is a short machine-readable reason ("empty", "binary", "unparsable", "no-content",
    "timeout", "crashed"); the crawl records the failure as kind "extraction" with this detail.
    """

    def __init__(self, message: str, kind: str = "no-content") -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):  # keep `kind` when the error crosses a process boundary (ExtractionPool)
        return (type(self), (str(self), self.kind))
