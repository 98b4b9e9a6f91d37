"""Display helpers for case pages."""

from django import template

from rules.errors import RuleError
from rules.loader import registry

register = template.Library()


@register.filter
def ruleset_title(ruleset_id: str) -> str:
    """The rule set's Chinese title (its latest version), falling back to the id."""
    try:
        return registry().family(ruleset_id).latest.title
    except (RuleError, AttributeError):
        return ruleset_id


@register.filter
def ruleset_short(ruleset_id: str) -> str:
    """A short label for lists: the jurisdiction the rule set belongs to."""
    try:
        return registry().family(ruleset_id).latest.jurisdiction
    except (RuleError, AttributeError):
        return ruleset_id
