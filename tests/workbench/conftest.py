"""The workbench's tests read published rule sets from the database: the registry is reset around each."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rules.registry import reset_registry


@pytest.fixture(autouse=True)
def published_rules(settings) -> Iterator[None]:  # noqa: ANN001 - pytest-django fixture
    settings.RULES_FROM_DATABASE = True
    reset_registry()
    yield
    settings.RULES_FROM_DATABASE = False
    reset_registry()
