"""Fixture rule sets for the version machinery (version choice, diff, 从旧兼从轻).

The shipped rule sets hold only versions a policy document establishes; a second version is
tested on the invented ``testland`` rule set under ``fixtures/versions``, never in ``rules/rulesets``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rules import registry as registry_module
from rules.loader import Registry, load_registry

FIXTURE_VERSIONS = Path(__file__).resolve().parent / "fixtures" / "versions"


@pytest.fixture(scope="session")
def testland() -> Registry:
    """A registry with only the invented two-version rule set ``testland``."""
    return load_registry(FIXTURE_VERSIONS)


@pytest.fixture
def testland_registry(testland: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """Make the process-wide registry the fixture one, for the API and pages."""
    monkeypatch.setattr(registry_module, "_registry", testland)
    return testland
