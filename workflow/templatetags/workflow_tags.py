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


@register.filter
def action_label(code: str) -> str:
    """A history entry's action in words (提交书面申请), never its code."""
    from workflow.models import HistoryAction

    return HistoryAction(code).label if code in HistoryAction.values else code


@register.filter
def state_label(code: str) -> str:
    """A case state in words (调查中), never its code; empty stays empty."""
    from cases.models import CaseState

    return CaseState(code).label if code in CaseState.values else code
