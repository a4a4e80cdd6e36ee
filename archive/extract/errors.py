"""The one error extraction raises."""

from __future__ import annotations


class ExtractionError(ValueError):
    """The input is not a content page: empty, binary, an anti-bot challenge, or nothing recognisable.

    `kind` is a short machine-readable reason ("empty", "binary", "challenge", "no-content") that the
    crawler records as the failure kind.
    """

    def __init__(self, message: str, kind: str = "no-content") -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self):  # keep `kind` when the error crosses a process boundary (ExtractionPool)
        return (type(self), (str(self), self.kind))
