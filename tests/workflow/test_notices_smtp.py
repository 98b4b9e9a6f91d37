"""Notices by e-mail through a real SMTP server: Django's SMTP backend talks to an aiosmtpd server on
127.0.0.1, which keeps every message it accepts as the bytes that crossed the wire.

Notices come from the deadline check at fixed dates (time frozen while they are made); mail is sent
outside the frozen time, since the server's event loop runs on the real clock.
"""

from __future__ import annotations

import datetime as dt
import email
import email.header
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time

from accounts.models import Membership
from cases.models import Case
from tests.factories import CommitteeFactory, PersonFactory, UnitFactory, case_in_state, inspector, organ
from workflow import tasks
from workflow.models import Notification
from workflow.services.reminders import deadlines_check

pytestmark = pytest.mark.django_db

STARTED = dt.date(2025, 9, 1)  # a Monday; with 5 calendar days the stage deadline is Saturday 6 September
REMINDED = dt.date(2025, 9, 3)  # three days before: 催办 to the handler
OVERDUE = dt.date(2025, 9, 8)  # the deadline has passed: 超期 to the handler and the head of the department


def _at(day: dt.date) -> str:
    return f"{day.isoformat()} 09:00:00+08:00"


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage


@dataclass
class Collector:
    """aiosmtpd handler: accepts every message and keeps it."""

    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or envelope.content
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                raw=raw,
                message=email.message_from_bytes(raw, policy=email.policy.default),
            )
        )
        return "250 Message accepted for delivery"


class MailServer:
    """A real SMTP server on a free local port that a test can stop and start again on the same port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.collector = Collector()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def received(self) -> list[Received]:
        return self.collector.received


@pytest.fixture
def smtp_server(settings):
    """The server, and Django configured to mail notices through it as in production (EMAIL_HOST set)."""
    server = MailServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "rongcuo@jiwei.example.gov"
    # Read once from EMAIL_HOST when the settings load; the test sets what that would have given.
    settings.NOTICE_EMAIL_ENABLED = True
    settings.SITE_URL = "https://rongcuo.example.gov"
    settings.STAGE_DEADLINE_DAYS_KIND = "calendar"
    settings.STAGE_DEADLINE_DAYS = {"started": 5}
    settings.DEADLINE_REMINDER_LEAD_DAYS = 3
    settings.DEADLINE_ESCALATION_DAYS = 5
    yield server
    server.stop()


@pytest.fixture
def department():
    """A discipline commission with a handler and a head, both with an e-mail address."""
    committee = CommitteeFactory()
    unit = UnitFactory(parent=committee)
    dc = organ(committee, "discipline")
    handler = inspector(dc, full_name="王承办", email="wang@jiwei.example.gov")
    head = inspector(dc, full_name="李主任", email="li@jiwei.example.gov")
    Membership.objects.filter(user=head).update(is_head=True)
    return {"unit": unit, "handler": handler, "head": head}


def _case(department, title: str = "环境执法先行查封被问责") -> Case:
    with freeze_time(_at(STARTED)):
        return case_in_state(
            "started",
            subject=PersonFactory(unit=department["unit"]),
            created_by=department["handler"],
            title=title,
        )


def _check(day: dt.date) -> None:
    with freeze_time(_at(day)):
        deadlines_check()


def _subject(received: Received) -> str:
    """The subject as RFC 2047 decodes it. (Django folds a long encoded subject onto the next line; the
    modern parser keeps that fold's space in front, which mail clients drop, so it is not used here.)"""
    raw = email.message_from_bytes(received.raw)["Subject"]
    return str(email.header.make_header(email.header.decode_header(raw)))


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content_charset() == "utf-8"
    return body.get_content()


def test_a_notice_is_stored_then_delivered_once_to_the_mail_server(smtp_server, department):
    case = _case(department)
    _check(REMINDED)

    # Stored first: the notice is in the app, waiting to be mailed; nothing has gone out yet.
    notice = Notification.objects.get(user=department["handler"])
    assert notice.email_state == "pending" and notice.text.startswith(f"催办：{case.reference}")
    assert smtp_server.received == []

    assert tasks.notices_deliver() == 1  # what beat runs every minute
    [received] = smtp_server.received
    assert received.mail_from == "rongcuo@jiwei.example.gov"
    assert received.rcpt_tos == ["wang@jiwei.example.gov"]
    message = received.message
    assert message["To"] == "wang@jiwei.example.gov"
    assert _subject(received) == f"【容错纠错】{notice.text[:60]}"
    assert _subject(received).startswith(f"【容错纠错】催办：{case.reference}《环境执法先行查封被问责》")
    # On the wire the Chinese subject is an RFC 2047 encoded word, never raw bytes in a header.
    raw_headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii() and b"=?utf-8?" in raw_headers.lower()
    body = _text(message)
    assert case.reference in body
    assert "的办理期限为2025年9月6日，即将届满，请及时办理。" in body
    assert body.rstrip().endswith(f"https://rongcuo.example.gov/cases/{case.pk}/")

    notice.refresh_from_db()
    assert notice.email_state == "sent" and notice.email_attempts == 1 and notice.email_error == ""
    assert notice.emailed_at is not None
    # Exactly once: the next runs find nothing to send.
    assert tasks.notices_deliver() == 0 and tasks.notices_deliver() == 0
    assert len(smtp_server.received) == 1


def test_with_the_mail_server_down_nothing_is_lost_and_the_next_run_delivers_once(smtp_server, department):
    case = _case(department)
    smtp_server.stop()
    _check(REMINDED)

    # The server refuses connections: the notice stays pending with the error, twice over.
    assert tasks.notices_deliver() == 0
    assert tasks.notices_deliver() == 0
    notice = Notification.objects.get(user=department["handler"])
    assert notice.email_state == "pending" and notice.emailed_at is None
    assert notice.email_attempts == 2 and "refused" in notice.email_error.lower()
    assert Notification.objects.count() == 1 and notice.read_at is None  # still in the app, unread

    smtp_server.start()
    assert tasks.notices_deliver() == 1
    assert tasks.notices_deliver() == 0
    [received] = smtp_server.received
    assert received.rcpt_tos == ["wang@jiwei.example.gov"] and case.reference in _text(received.message)
    notice.refresh_from_db()
    assert (notice.email_state, notice.email_attempts, notice.email_error) == ("sent", 3, "")


def test_the_daily_digest_arrives_as_one_message_listing_the_notices(smtp_server, department):
    head = department["head"]
    head.notice_digest = True
    head.save(update_fields=["notice_digest"])
    first = _case(department, title="防汛物资先行调拨被问责")
    second = _case(department, title="招商项目容缺受理被问责")
    _check(OVERDUE)  # 超期 on both cases: to the handler singly, to the head in the digest

    waiting = list(Notification.objects.filter(user=head).order_by("id"))
    assert len(waiting) == 2 and {n.email_state for n in waiting} == {"digest"}
    # The single mails go to the handler only; the head's notices wait for the digest.
    assert tasks.notices_deliver() == 4  # 催办 and 超期 for each case
    assert {r.rcpt_tos[0] for r in smtp_server.received} == {"wang@jiwei.example.gov"}

    # With the server down the digest waits, with the error recorded.
    smtp_server.stop()
    assert tasks.notices_digest_send() == 0
    assert {(n.email_state, bool(n.email_error)) for n in Notification.objects.filter(user=head)} == {
        ("digest", True)
    }

    smtp_server.start()
    assert tasks.notices_digest_send() == 1
    assert tasks.notices_digest_send() == 0
    digests = [r for r in smtp_server.received if r.rcpt_tos == ["li@jiwei.example.gov"]]
    assert len(digests) == 1
    message = digests[0].message
    assert _subject(digests[0]) == "【容错纠错】通知每日汇总（2 条）"
    body = _text(message)
    assert body.startswith("李主任，您好：") and "以下是您的 2 条新通知：" in body
    # Each notice on its own numbered line, at the time it was made (09:00 in the site's time zone).
    assert f"1. 2025年9月8日 09:00 超期：{first.reference}《防汛物资先行调拨被问责》" in body
    assert f"2. 2025年9月8日 09:00 超期：{second.reference}《招商项目容缺受理被问责》" in body
    assert "已超过办理期限（2025年9月6日）" in body
    assert {n.email_state for n in Notification.objects.filter(user=head)} == {"sent"}


def test_the_kick_after_commit_mails_a_new_notice_at_once(
    smtp_server, department, django_capture_on_commit_callbacks
):
    """Without waiting for beat: the commit that stores the notice queues its delivery (run in-process,
    as in the embedded run without Redis)."""
    from config.celery import app

    case = _case(department)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            _check(REMINDED)
    finally:
        app.conf.task_always_eager = saved
    [received] = smtp_server.received
    assert received.rcpt_tos == ["wang@jiwei.example.gov"] and case.reference in _text(received.message)
    assert Notification.objects.get(user=department["handler"]).email_state == "sent"
    assert tasks.notices_deliver() == 0 and len(smtp_server.received) == 1
