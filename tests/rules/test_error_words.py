"""Errors people read name a rule set by its title, never by its id alone."""

from __future__ import annotations

import datetime as dt

import pytest

from rules.errors import DateBeforeFirstVersionError
from rules.loader import registry


def test_a_date_before_the_first_version_names_the_rule_set_by_its_title():
    reg = registry()
    first = reg.family("zhangjiakou").versions[0]
    with pytest.raises(DateBeforeFirstVersionError) as raised:
        reg.version_for("zhangjiakou", first.effective_from - dt.timedelta(days=1))
    message = str(raised.value)
    assert f"《{first.title}》" in message and "规则集 zhangjiakou" not in message
    assert raised.value.ruleset_id == "zhangjiakou"  # the id stays on the exception, for the API
