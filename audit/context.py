"""The request being served, for receivers that Django calls without one (a password saved, say)."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

current_request: ContextVar[Any] = ContextVar("audit_current_request", default=None)
