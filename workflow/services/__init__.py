"""Every change of state in the procedure, one function per action, grouped by stage.

- ``kernel``: lock and guard, save with history, notify, outbox, value checks, ``Meeting``
- ``start``: ``case_create`` (an inspector's start or a written application)
- ``investigation``: ``case_investigate``, ``finding_record``, ``evidence_add``, ``statement_add``,
  ``participant_add``
- ``deliberation``: ``case_propose``, ``consultation_reply``, ``case_send_back``, ``case_recuse``,
  ``case_decide``
- ``closing``: ``case_execute``, ``accountability_record``, ``case_appeal``, ``appeal_review``, ``cases_close_expired``,
  ``case_reassign``, ``case_withdraw``
- ``followup``: ``visit_add``, ``visit_complete`` (回访), ``clarification_record`` (澄清正名),
  ``failure_dismiss``, ``failure_open_case`` (应容未容)
- ``housekeeping``: drafts (also of a written application), read marks, an administrator's corrections
- ``uploads``: checks and quotas for files, and files kept for an application not yet sent

Pages, the API, the admin, Celery tasks and management commands call these names from here.
"""

from ..errors import InvalidInput, NotAllowed, StaleRevision, WrongState
from .closing import (
    accountability_record,
    appeal_review,
    case_appeal,
    case_execute,
    case_reassign,
    case_withdraw,
    cases_close_expired,
    delivery_correct,
)
from .deliberation import (
    case_decide,
    case_propose,
    case_recuse,
    case_send_back,
    consultation_reply,
    consultation_withdraw,
)
from .followup import (
    clarification_record,
    clarification_referral,
    failure_dismiss,
    failure_open_case,
    visit_add,
    visit_complete,
)
from .housekeeping import (
    APPLICATION_FORM,
    application_draft,
    application_draft_discard,
    application_draft_save,
    case_admin_correct,
    draft_discard,
    draft_save,
    notification_open,
    notifications_mark_read,
)
from .investigation import case_investigate, evidence_add, finding_record, participant_add, statement_add
from .kernel import Meeting, outbox_kick
from .start import case_create
from .uploads import (
    ALLOWED_UPLOAD_TYPES,
    MAX_UPLOAD_BYTES,
    pending_upload_remove,
    pending_uploads,
    pending_uploads_keep,
    pending_uploads_purge,
    uploads_check,
)

__all__ = [
    "APPLICATION_FORM", "application_draft", "application_draft_discard", "application_draft_save",
    "notification_open", "pending_upload_remove", "pending_uploads", "pending_uploads_keep",
    "pending_uploads_purge",
    "ALLOWED_UPLOAD_TYPES", "MAX_UPLOAD_BYTES", "InvalidInput", "Meeting", "NotAllowed", "StaleRevision",
    "WrongState", "accountability_record", "appeal_review", "case_admin_correct", "case_appeal",
    "case_create", "case_decide", "case_execute", "case_investigate", "case_propose", "case_reassign",
    "case_recuse", "case_send_back", "case_withdraw", "cases_close_expired", "consultation_reply",
    "consultation_withdraw", "delivery_correct", "draft_discard", "draft_save", "evidence_add", "finding_record",
    "notifications_mark_read", "outbox_kick", "participant_add", "statement_add", "uploads_check",
    # follow-through
    "clarification_record", "clarification_referral", "failure_dismiss", "failure_open_case", "visit_add",
    "visit_complete",
]
