"""Who may see which documents and use the filing register; asked by pages, the API and tasks."""

from __future__ import annotations

from accounts.models import Role, User
from accounts.selectors import orgs_with_role
from cases.models import Case
from workflow.permissions import is_party, scope_of, sees_internal

from .models import SUBJECT_KINDS, DocumentKind, ExportJob


def visible_kinds(user: User, case: Case) -> tuple[str, ...]:
    """Officials who can see the case see every document; the cadre and an applying unit see what was sent."""
    if not user.is_authenticated:
        return ()
    if sees_internal(user, case):
        return tuple(DocumentKind.values)
    if is_party(user, case):  # the cadre, or the unit that applied for them (书面反馈 to the person or unit)
        return tuple(SUBJECT_KINDS)
    return ()


def may_use_filing_register(user: User) -> bool:
    """The organisation department receives filings (第十条); the system admin may look too."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or bool(orgs_with_role(user, Role.ORGDEPT))


def may_regenerate(user: User, case: Case) -> bool:
    """The accountability department issues the documents, so it corrects and reissues them."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or case.accountability_org_id in scope_of(user).inspector_org_ids


def may_see_job(user: User, job: ExportJob) -> bool:
    """An export holds many cases' filings: only whoever asked for it (or the admin) may see it."""
    return user.is_authenticated and (user.is_superuser or job.requested_by_id == user.pk)
