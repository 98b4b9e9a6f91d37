"""Display helpers for case pages."""

from django import template
from django.forms import BoundField

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


# --- forms: confirmations, the error summary --------------------------------------------------------

@register.filter
def action_confirm(action: str) -> str:
    """What an irreversible action asks before it is sent (empty for the others)."""
    from ..actions import ACTIONS

    spec = ACTIONS.get(action)
    return spec.confirm if spec else ""


@register.filter
def action_button(action: str) -> str:
    """The class of an action's page button."""
    from ..actions import ACTIONS

    spec = ACTIONS.get(action)
    return spec.button if spec else "btn-primary"


@register.filter
def field_anchor(field: BoundField) -> str:
    """The id an error summary links to: the control itself, or the first box of a group of choices."""
    return field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else "")

@register.filter
def sees_tech_info(user: object) -> bool:
    """Staff and the administrator see technical details (clause ids, hashes). Asked once before a long
    loop: the lazy ``user`` looked up on every row costs more than the row's own fields."""
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


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
