"""Writes over users, organisations, memberships and persons (cadres and unit parties)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ApiToken, Membership, Organisation, PartyKind, Person, User


def organisation_upsert(
    *, name: str, kind: str, level: str, jurisdiction: str, parent: Organisation | None = None, short_name: str = ""
) -> Organisation:
    """Create or refresh an organisation, found by its name."""
    org, _ = Organisation.objects.update_or_create(
        name=name,
        defaults={"kind": kind, "level": level, "jurisdiction": jurisdiction, "parent": parent, "short_name": short_name},
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
def api_token_issue(*, user: User, name: str = "", ip: str | None = None) -> tuple[ApiToken, str]:
    """A new token for the user, valid API_TOKEN_HOURS; returns the row and the key (shown only now)."""
    ApiToken.objects.filter(user=user, expires_at__lte=timezone.now()).delete()
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user, key_hash=token_hash(key), prefix=key[:8], name=name[:200], created_ip=ip,
        expires_at=timezone.now() + dt.timedelta(hours=settings.API_TOKEN_HOURS),
    )
    return token, key


def api_token_revoke(*, token: ApiToken) -> None:
    token.delete()


def users_force_password_reset(*, users: list[User]) -> int:
    """Administrator's forced reset: each must change the password at the next request; sessions end now."""
    ids = [u.pk for u in users]
    with transaction.atomic():
        count = User.objects.filter(pk__in=ids).update(must_change_password=True,
                                                       session_epoch=F("session_epoch") + 1)
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
        name=name, unit=unit, kind=PartyKind.CADRE, defaults={"position": position, "rank": rank, "user": user}
    )
    return person


def unit_party_ensure(unit: Organisation) -> Person:
    """The party that stands for a unit held accountable (被问责单位): one per organisation."""
    person, _ = Person.objects.update_or_create(
        kind=PartyKind.UNIT, unit=unit, defaults={"name": unit.name, "position": "", "rank": "", "user": None}
    )
    return person
