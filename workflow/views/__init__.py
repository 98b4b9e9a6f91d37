"""Pages, by what the user is doing: lists, starting a case, the case page, adding to the record."""

from .case import case_action, case_detail, case_review, evaluation_fragment
from .lists import case_index, consultations_waiting, home, my_cases, notification_open, notifications
from .records import evidence_file, evidence_upload, finding_save, participant_add, statement_add
from .starting import apply, case_new

__all__ = [
    "apply",
    "case_action",
    "case_detail",
    "case_index",
    "case_new",
    "case_review",
    "consultations_waiting",
    "evaluation_fragment",
    "evidence_file",
    "evidence_upload",
    "finding_save",
    "home",
    "my_cases",
    "notification_open",
    "notifications",
    "participant_add",
    "statement_add",
]
