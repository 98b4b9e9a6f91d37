"""Who may do what in the workbench: named predicates on (user, draft)."""

from __future__ import annotations

from accounts.models import Role, User
from accounts.selectors import orgs_with_role
from workbench.models import Draft, DraftState


def editor_org_ids(user: User) -> set[int]:
    """The organisations where the user is a rule-set editor."""
    return {org.pk for org in orgs_with_role(user, Role.RULESET_EDITOR)}


def is_editor_of_org(user: User, draft: Draft) -> bool:
    return draft.organisation_id in editor_org_ids(user)


def is_editing(draft: Draft) -> bool:
    return draft.state == DraftState.EDITING


def has_edited(user: User, draft: Draft) -> bool:
    return user.pk == draft.created_by_id or user.pk in (draft.editor_ids or [])


def can_edit(user: User, draft: Draft) -> bool:
    return is_editor_of_org(user, draft) and is_editing(draft)


def can_review(user: User, draft: Draft) -> bool:
    """A second rule-set editor of the organisation who has not edited the draft."""
    return is_editor_of_org(user, draft) and draft.state == DraftState.SUBMITTED and not has_edited(user, draft)
