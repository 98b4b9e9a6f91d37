"""Facade kept so ``from rules.engine import ...`` keeps working; the engine lives in one module per concern.

- ``rules.evaluation``: ``evaluate_version``, the pure three-valued evaluation, step by step.
- ``rules.facts``: the facts clauses are derived from (``parse_facts``, ``derive``).
- ``rules.compiled``: a version compiled to index arrays; status codes; ``ENGINE_VERSION``.
- ``rules.presentation``: ``Evaluation``, the result with its trace, ``missing`` and ``to_dict()``.
- ``rules.temporal``: ``evaluate`` (从旧兼从轻), ``pinned_version``, ``reproduce``, ``compare``.
"""

from __future__ import annotations

from rules.compiled import ENGINE_VERSION
from rules.definitions import DERIVATION_SOURCES
from rules.evaluation import evaluate_version
from rules.presentation import Evaluation
from rules.temporal import compare, evaluate, pinned_version, reproduce

__all__ = [
    "ENGINE_VERSION",
    "DERIVATION_SOURCES",
    "Evaluation",
    "compare",
    "evaluate",
    "evaluate_version",
    "pinned_version",
    "reproduce",
]
