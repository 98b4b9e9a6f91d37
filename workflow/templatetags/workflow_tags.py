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


@register.simple_tag
def holiday_calendar_warning() -> str:
    """From 1 December, the warning that next year's holiday arrangement has not been entered ("" if it has)."""
    from workflow.deadlines import calendar_warning

    return calendar_warning()


@register.simple_tag
def case_clock(case: object) -> dict:
    """The stage clock of a case: its pauses (open and ended) and how far they moved the deadline."""
    from workflow.services.reminders import case_deadline_info

    return case_deadline_info(case)  # type: ignore[arg-type]
