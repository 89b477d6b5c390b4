"""Errors a user can act on.

Every exception deriving from :class:`ViewtrailError` carries a message that is one sentence saying what went
wrong and what to do; the CLI prints it as is (no traceback) and exits non-zero.
"""

from __future__ import annotations


class ViewtrailError(Exception):
    """Base class of user-facing errors: ``str(error)`` is one actionable sentence."""


class InvalidInputError(ViewtrailError, ValueError):
    """A value given by the user (option, metadata, cadence, file content) is not acceptable."""
