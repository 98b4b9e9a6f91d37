"""Writes over users, organisations, memberships and persons (cadres and unit parties)."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

import django_otp
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .events import two_factor_event
from .models import ApiToken, Membership, Organisation, PartyKind, Person, User
from .selectors import recovery_device_of, totp_device_of


def organisation_upsert(
    *,
    name: str,
    kind: str,
    level: str,
    jurisdiction: str,
    parent: Organisation | None = None,
    short_name: str = "",
) -> Organisation:
    """Create or refresh an organisation, found by its name."""
    org, _ = Organisation.objects.update_or_create(
        name=name,
        defaults={
            "kind": kind,
            "level": level,
            "jurisdiction": jurisdiction,
            "parent": parent,
            "short_name": short_name,
        },
    )
    return org


def user_upsert(*, username: str, password: str, full_name: str, is_superuser: bool = False) -> User:
    """Create or refresh a login and set its password; the system admin is also staff (the admin site)."""
    user, created = User.objects.get_or_create(username=username, defaults={"full_name": full_name})
    user.full_name = full_name
    user.is_superuser = is_superuser
    user.is_staff = is_superuser
    user.set_password(password)
    user.save()
    return user


def auditor_upsert(*, username: str, password: str, full_name: str) -> User:
    """An auditor (审计员): staff (to reach the read-only admin list), never a superuser, in the auditor group."""
    user = user_upsert(username=username, password=password, full_name=full_name)
    User.objects.filter(pk=user.pk).update(is_staff=True)
    user.is_staff = True
    group, _ = Group.objects.get_or_create(name=settings.AUDIT_AUDITOR_GROUP)
    user.groups.add(group)
    return user


@transaction.atomic
def user_password_change(*, user: User, password: str) -> User:
    """The user's own new password (already validated): it clears a forced reset and ends every session
    and API token of the user, this one included."""
    user.set_password(password)
    user.must_change_password = False
    user.session_epoch = F("session_epoch") + 1
    user.save(update_fields=["password", "password_changed_at", "must_change_password", "session_epoch"])
    user.refresh_from_db(fields=["session_epoch"])
    user_tokens_revoke(user=user)
    return user


@transaction.atomic
def user_sessions_end(*, user: User) -> None:
    """End every session (on every device) and every API token of the user: on logout."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user_tokens_revoke(user=user)


def user_tokens_revoke(*, user: User) -> int:
    deleted, _ = ApiToken.objects.filter(user=user).delete()
    return deleted


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(
    *, user: User, name: str = "", ip: str | None = None, second_factor: bool = False
) -> tuple[ApiToken, str]:
    """A new token for the user, valid API_TOKEN_HOURS; returns the row and the key (shown only now).
    ``second_factor``: the caller checked a one-time code of this user before asking."""
    ApiToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        key_hash=token_hash(key),
        prefix=key[:8],
        name=name[:200],
        created_ip=ip,
        second_factor=second_factor,
        expires_at=timezone.now() + dt.timedelta(hours=settings.API_TOKEN_HOURS),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def users_force_password_reset(*, users: list[User]) -> int:
    """Administrator's forced reset: each must change the password at the next request; sessions end now."""
    ids = [u.pk for u in users]
    with transaction.atomic():
        count = User.objects.filter(pk__in=ids).update(
            must_change_password=True, session_epoch=F("session_epoch") + 1
        )
        for user in users:
            user_tokens_revoke(user=user)
    return count


def membership_grant(*, user: User, organisation: Organisation, role: str) -> Membership:
    """Give a user a role in an organisation (nothing changes if they hold it already)."""
    membership, _ = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    return membership


def person_upsert(
    *, name: str, unit: Organisation, position: str, rank: str, user: User | None = None
) -> Person:
    """Create or refresh a cadre, found by name and unit, optionally linked to their login."""
    person, _ = Person.objects.update_or_create(
        name=name,
        unit=unit,
        kind=PartyKind.CADRE,
        defaults={"position": position, "rank": rank, "user": user},
    )
    return person


def unit_party_ensure(unit: Organisation) -> Person:
    """The party that stands for a unit held accountable (被问责单位): one per organisation."""
    person, _ = Person.objects.update_or_create(
        kind=PartyKind.UNIT, unit=unit, defaults={"name": unit.name, "position": "", "rank": "", "user": None}
    )
    return person


# --- Two-factor sign-in (django-otp): one TOTP authenticator per user plus single-use recovery codes. ---

# Recovery codes: 12 characters of an alphabet without look-alikes (60 bits), shown as xxxx-xxxx-xxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 12
TOTP_CODE = re.compile(r"^\d{6}$")


def recovery_code_digest(code: str) -> str:
    """What is stored for a recovery code: never the code itself (django-otp keeps 16 characters)."""
    normal = re.sub(r"[\s-]", "", code).lower()
    return hashlib.sha256(f"accounts.recovery:{normal}".encode()).hexdigest()[:16]


def _recovery_code_new() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4))


def two_factor_enrolment_start(*, user: User) -> TOTPDevice:
    """The authenticator being enrolled: the same secret across reloads until it is confirmed."""
    device = totp_device_of(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=False)
    return device


@dataclass(frozen=True)
class TwoFactorResult:
    """The outcome of checking a code: the device that accepted it, or how long to wait (throttled)."""

    device: Device | None
    kind: str = ""  # "totp" or "recovery"
    wait_seconds: int = 0  # refused unchecked: the device is throttled after earlier failures

    @property
    def ok(self) -> bool:
        return self.device is not None


def _throttle_wait(device: Any) -> int:
    allowed, info = device.verify_is_allowed()
    if allowed or not info or not info.get("locked_until"):
        return 0
    return max(1, math.ceil((info["locked_until"] - timezone.now()).total_seconds()))


def two_factor_enrolment_confirm(
    *, user: User, code: str, request: Any = None
) -> tuple[TwoFactorResult, list[str]]:
    """Confirm the authenticator being enrolled with its first code; on success it replaces any earlier
    one and a new set of recovery codes is made. Returns the result and the codes (shown only now)."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-pk").first()
        )
        if device is None:
            return TwoFactorResult(None), []
        wait = _throttle_wait(device)
        # verify_token records the step it accepted (last_t): the same code cannot be used again.
        if wait or not TOTP_CODE.match(code.strip()) or not device.verify_token(code.strip()):
            failed = True
        else:
            failed = False
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            codes = _recovery_codes_replace(user=user)
    if failed:
        why = "启用时验证码错误" if not wait else f"尝试过于频繁，需等待 {wait} 秒"
        _announce("otp_failed", success=False, request=request, user=user, detail=why)
        return TwoFactorResult(None, "totp", wait), []
    _announce("otp_enrolled", success=True, request=request, user=user,
              detail=f"启用 TOTP 验证器，生成 {len(codes)} 个恢复码")
    return TwoFactorResult(device, "totp"), codes


def _announce(action: str, *, success: bool, request: Any, user: User, detail: str = "") -> None:
    """Tell whoever records two-factor events (the audit app) what happened."""
    two_factor_event.send(sender=User, action=action, success=success, request=request, user=user, detail=detail)


def _recovery_codes_replace(*, user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    codes = [_recovery_code_new() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_code_digest(c)) for c in codes]
    )
    return codes


def two_factor_verify(*, user: User, code: str, request: Any = None) -> TwoFactorResult:
    """Check a six-digit code from the authenticator, or a recovery code (used up by this check).

    django-otp locks the device row, refuses a step at or before the last one accepted (so a code cannot
    be replayed), and after each failure doubles the wait before the next attempt is even checked."""
    code = code.strip()
    is_totp = bool(TOTP_CODE.match(code))
    device = totp_device_of(user) if is_totp else recovery_device_of(user)
    kind = "totp" if is_totp else "recovery"
    result = TwoFactorResult(None, kind)
    if device is not None and code:
        wait = _throttle_wait(device)
        if wait:
            result = TwoFactorResult(None, kind, wait)
        else:
            token = code if is_totp else recovery_code_digest(code)
            accepted = django_otp.verify_token(user, device.persistent_id, token)
            result = TwoFactorResult(accepted, kind)
    if result.ok:
        if is_totp:
            _announce("otp_verified", success=True, request=request, user=user, detail="TOTP 验证码")
        else:
            left = device.token_set.count() if device is not None else 0
            _announce("otp_recovery_used", success=True, request=request, user=user,
                      detail=f"使用一个恢复码，剩余 {left} 个")
    else:
        what = "TOTP 验证码" if is_totp else "恢复码"
        detail = f"{what}错误、已使用或已过期" if not result.wait_seconds else f"{what}：尝试过于频繁"
        _announce("otp_failed", success=False, request=request, user=user, detail=detail)
    return result


def two_factor_session_start(*, request: Any, device: Device) -> None:
    """Mark this session as having passed the second factor (a new session key: no fixation)."""
    request.session.cycle_key()
    django_otp.login(request, device)


def users_two_factor_reset(*, users: list[User], request: Any = None) -> int:
    """Administrator's reset (a lost phone): the authenticator and recovery codes are deleted and every
    session and API token ends; the user enrols again at the next log-in."""
    count = 0
    with transaction.atomic():
        for user in users:
            removed = TOTPDevice.objects.filter(user=user).delete()[0]
            removed += StaticDevice.objects.filter(user=user).delete()[0]
            user_sessions_end(user=user)
            two_factor_event.send(
                sender=User, action="otp_reset", success=True, request=request, object_type="user",
                object_id=str(user.pk),
                detail=f"重置 {user.get_username()} 的双因素认证" + ("" if removed else "（此前未启用）"),
            )
            count += 1
    return count


def user_notice_preference_set(*, user: User, digest: bool, email: str) -> User:
    """How the user's notices are mailed: one by one or in a daily digest, and to which address.

    Raises ``ValidationError`` (a Chinese message) for an address that is not one; nothing is saved then.
    """
    from django.core.exceptions import ValidationError
    from django.core.validators import EmailValidator

    email = (email or "").strip()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError:
            raise ValidationError(f"电子邮箱地址无效：{email[:100]}") from None
    if len(email) > 254:
        raise ValidationError("电子邮箱地址过长。")
    changed = [f for f, v in (("notice_digest", digest), ("email", email)) if getattr(user, f) != v]
    if changed:
        user.notice_digest, user.email = digest, email
        user.save(update_fields=changed)
    return user
