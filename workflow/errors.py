"""Errors every door (page, API, task, command) translates the same way."""

from __future__ import annotations


class WorkflowError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(WorkflowError):
    """Bad input: 400, naming the field."""


class NotAllowed(WorkflowError):
    """The user may see the case but lacks the role or authority for the action: 403."""

    status = 403
    code = "permission_denied"


class WrongState(WorkflowError):
    """The action is not open in the case's current state: 409."""

    status = 409
    code = "wrong_state"


class StaleRevision(WorkflowError):
    """Someone else changed the case since the form was loaded: 409."""

    status = 409
    code = "stale"
