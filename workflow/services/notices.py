"""Notices by e-mail: stored first (in-app), then mailed one by one or in a daily digest.

A notice's ``email_state`` is its delivery state: ``pending`` until a send succeeds, ``digest``
until the day's digest takes it. A failed send (mail server down) leaves the row pending with the
error; beat's next ``notices_deliver`` retries it, so a notice is never lost. Delivery is at least
once: the row is marked sent in the transaction that holds its lock while the mail goes out.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from rules.dates import cn_datetime

from ..models import EmailState, Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 20  # about 20 minutes of beat retries; then it waits for an administrator (see admin)


def mail_enabled() -> bool:
    return bool(getattr(settings, "NOTICE_EMAIL_ENABLED", False))


def email_state_for(user: User) -> str:
    """How a new notice for ``user`` will be mailed: not at all, singly, or in the daily digest."""
    if not mail_enabled() or not user.email:
        return EmailState.NONE
    return EmailState.DIGEST if user.notice_digest else EmailState.PENDING


def notices_kick() -> None:
    """Ask a worker to mail the pending notices now; if the broker is down, beat retries later."""
    from ..tasks import notices_deliver as task  # the tasks module imports these services

    try:
        task.apply_async(retry=False)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the rows stay pending
        logger.warning("notice delivery not queued (%s); beat will retry", exc)


def _link(notice: Notification) -> str:
    if notice.case_id is None:
        return ""
    return f"\n{settings.SITE_URL.rstrip('/')}/cases/{notice.case_id}/" if getattr(settings, "SITE_URL", "") else ""


def notices_deliver(*, limit: int = 200) -> int:
    """Mail pending notices one by one; returns how many were sent. Failures stay pending for the next run."""
    if not mail_enabled():
        return 0
    ids = list(Notification.objects.filter(email_state=EmailState.PENDING, email_attempts__lt=MAX_ATTEMPTS)
               .order_by("id").values_list("id", flat=True)[:limit])
    sent = 0
    for pk in ids:
        with transaction.atomic():
            notice = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
                      .select_related("user").filter(pk=pk, email_state=EmailState.PENDING).first())
            if notice is None:
                continue
            try:
                send_mail(f"【容错纠错】{notice.text[:60]}", notice.text + _link(notice), None, [notice.user.email])
            except Exception as exc:  # noqa: BLE001 - SMTP, DNS or socket errors alike: retry later
                notice.email_attempts += 1
                notice.email_error = str(exc)[:300]
                notice.save(update_fields=["email_attempts", "email_error"])
                logger.warning("notice %s not mailed (%s); will retry", pk, exc)
                continue
            notice.email_state = EmailState.SENT
            notice.emailed_at = timezone.now()
            notice.email_attempts += 1
            notice.email_error = ""
            notice.save(update_fields=["email_state", "emailed_at", "email_attempts", "email_error"])
            sent += 1
    return sent


def notices_digest_send() -> int:
    """One mail per officer who chose the daily digest, listing the notices gathered since the last one."""
    if not mail_enabled():
        return 0
    waiting: dict[int, list[int]] = defaultdict(list)
    for pk, user_id in (Notification.objects.filter(email_state=EmailState.DIGEST)
                        .order_by("id").values_list("id", "user_id")):
        waiting[user_id].append(pk)
    sent = 0
    for user_id, ids in waiting.items():
        with transaction.atomic():
            notices = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                           .select_related("user").filter(pk__in=ids, email_state=EmailState.DIGEST).order_by("id"))
            if not notices:
                continue
            user = notices[0].user
            # The site's local time in the one date format (created_at comes back from the database in UTC).
            lines = [f"{i}. {cn_datetime(n.created_at)} {n.text}" for i, n in enumerate(notices, 1)]
            body = f"{user.display_name()}，您好：\n\n以下是您的 {len(notices)} 条新通知：\n\n" + "\n".join(lines)
            try:
                send_mail(f"【容错纠错】通知每日汇总（{len(notices)} 条）", body, None, [user.email])
            except Exception as exc:  # noqa: BLE001 - the digest stays waiting for tomorrow's (or a manual) run
                Notification.objects.filter(pk__in=[n.pk for n in notices]).update(email_error=str(exc)[:300])
                logger.warning("digest for user %s not mailed (%s)", user_id, exc)
                continue
            Notification.objects.filter(pk__in=[n.pk for n in notices]).update(
                email_state=EmailState.SENT, emailed_at=timezone.now(), email_error="")
            sent += 1
    return sent
