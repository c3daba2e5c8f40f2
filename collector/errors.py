"""The collector's one refusal: :class:`StoreError`, raised by any room, answered by the edge and the CLI."""

from __future__ import annotations


class StoreError(Exception):
    """A request the collector refuses; ``status`` is the HTTP status that fits (the CLI maps it to an
    exit code)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
