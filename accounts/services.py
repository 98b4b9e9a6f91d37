"""Writes over users and organisations, including the demo world."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import string
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ApiToken, Membership, Organisation, OrgKind, OrgLevel, PartyKind, Person, Role, User


def organisation_upsert(
    *, name: str, kind: str, level: str, jurisdiction: str, parent: Organisation | None = None, short_name: str = ""
) -> Organisation:
    org, _ = Organisation.objects.update_or_create(
        name=name,
        defaults={"kind": kind, "level": level, "jurisdiction": jurisdiction, "parent": parent, "short_name": short_name},
    )
    return org


def user_upsert(*, username: str, password: str, full_name: str, is_superuser: bool = False) -> User:
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
    membership, _ = Membership.objects.get_or_create(user=user, organisation=organisation, role=role)
    return membership


def person_upsert(
    *, name: str, unit: Organisation, position: str, rank: str, user: User | None = None
) -> Person:
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


DEMO_LOGINS: list[tuple[str, str]] = [
    ("admin", "系统管理员"),
    ("inspector", "张家口市纪委监委 纪检监察干部"),
    ("committee", "中共张家口市委 常委"),
    ("orgdept", "中共张家口市委组织部 干部"),
    ("cadre", "张家口市生态环境局 干部（王某）"),
    ("cadre2", "张家口市生态环境局 干部（李某）"),
    ("inspector2", "郑州市纪委监委 纪检监察干部（河南）"),
    ("inspector_b", "张家口市纪委监委 纪检监察干部（转交对象）"),
    ("committee_b", "中共张家口市委 常委（回避、复核）"),
    ("committee2", "中共郑州市委 常委（河南）"),
    ("inspector3", "呼和浩特市纪委监委 纪检监察干部"),
    ("committee3", "中共呼和浩特市委 常委"),
    ("unit", "张家口市住房和城乡建设局 单位经办人（代干部申请容错）"),
    ("auditor", "审计员（只查阅、导出审计记录）"),
]


def demo_password_generate() -> str:
    """A random password that satisfies the composition rules: four classes, 14 characters."""
    alphabet = string.ascii_letters + string.digits + "-_#%"
    rng = secrets.SystemRandom()
    chars = [rng.choice(string.ascii_uppercase), rng.choice(string.ascii_lowercase), rng.choice(string.digits),
             rng.choice("-_#%"), *(rng.choice(alphabet) for _ in range(10))]
    rng.shuffle(chars)
    return "".join(chars)


@dataclass
class DemoWorld:
    password: str
    generated: bool
    orgs: dict[str, Organisation]
    users: dict[str, User]
    people: dict[str, Person]


@transaction.atomic
def demo_world_seed(*, password: str | None = None) -> DemoWorld:
    """Create (or refresh) the demo organisations, cadres and logins. Safe to run repeatedly."""
    generated = password is None
    password = password or demo_password_generate()
    # Every demo login must pass the real password rules (checked against each username below).
    for username, _ in DEMO_LOGINS:
        validate_password(password, User(username=username))
    o: dict[str, Organisation] = {}
    o["hebei"] = organisation_upsert(
        name="中共河北省委", kind=OrgKind.COMMITTEE, level=OrgLevel.PROVINCE, jurisdiction="zhangjiakou", short_name="冀"
    )
    o["hebei_dc"] = organisation_upsert(
        name="河北省纪委监委", kind=OrgKind.DISCIPLINE, level=OrgLevel.PROVINCE, jurisdiction="zhangjiakou",
        parent=o["hebei"], short_name="冀纪",
    )
    o["hebei_od"] = organisation_upsert(
        name="中共河北省委组织部", kind=OrgKind.ORGDEPT, level=OrgLevel.PROVINCE, jurisdiction="zhangjiakou",
        parent=o["hebei"], short_name="冀组",
    )
    o["zjk"] = organisation_upsert(
        name="中共张家口市委", kind=OrgKind.COMMITTEE, level=OrgLevel.CITY, jurisdiction="zhangjiakou",
        parent=o["hebei"], short_name="张",
    )
    o["zjk_dc"] = organisation_upsert(
        name="张家口市纪委监委", kind=OrgKind.DISCIPLINE, level=OrgLevel.CITY, jurisdiction="zhangjiakou",
        parent=o["zjk"], short_name="张纪容",
    )
    o["zjk_od"] = organisation_upsert(
        name="中共张家口市委组织部", kind=OrgKind.ORGDEPT, level=OrgLevel.CITY, jurisdiction="zhangjiakou",
        parent=o["zjk"], short_name="张组",
    )
    o["zjk_audit"] = organisation_upsert(
        name="张家口市审计局", kind=OrgKind.FUNCTIONAL, level=OrgLevel.CITY, jurisdiction="zhangjiakou",
        parent=o["zjk"], short_name="张审",
    )
    o["zjk_env"] = organisation_upsert(
        name="张家口市生态环境局", kind=OrgKind.UNIT, level=OrgLevel.CITY, jurisdiction="zhangjiakou", parent=o["zjk"]
    )
    o["zjk_housing"] = organisation_upsert(
        name="张家口市住房和城乡建设局", kind=OrgKind.UNIT, level=OrgLevel.CITY, jurisdiction="zhangjiakou",
        parent=o["zjk"],
    )
    o["henan"] = organisation_upsert(
        name="中共河南省委", kind=OrgKind.COMMITTEE, level=OrgLevel.PROVINCE, jurisdiction="henan", short_name="豫"
    )
    o["zz"] = organisation_upsert(
        name="中共郑州市委", kind=OrgKind.COMMITTEE, level=OrgLevel.CITY, jurisdiction="henan", parent=o["henan"],
        short_name="郑",
    )
    o["zz_dc"] = organisation_upsert(
        name="郑州市纪委监委", kind=OrgKind.DISCIPLINE, level=OrgLevel.CITY, jurisdiction="henan", parent=o["zz"],
        short_name="郑纪容",
    )
    o["zz_od"] = organisation_upsert(
        name="中共郑州市委组织部", kind=OrgKind.ORGDEPT, level=OrgLevel.CITY, jurisdiction="henan", parent=o["zz"],
        short_name="郑组",
    )
    o["zz_transport"] = organisation_upsert(
        name="郑州市交通运输局", kind=OrgKind.UNIT, level=OrgLevel.CITY, jurisdiction="henan", parent=o["zz"]
    )

    o["hohhot"] = organisation_upsert(
        name="中共呼和浩特市委", kind=OrgKind.COMMITTEE, level=OrgLevel.CITY, jurisdiction="hohhot", short_name="呼"
    )
    o["hohhot_dc"] = organisation_upsert(
        name="呼和浩特市纪委监委", kind=OrgKind.DISCIPLINE, level=OrgLevel.CITY, jurisdiction="hohhot",
        parent=o["hohhot"], short_name="呼纪容",
    )
    o["hohhot_od"] = organisation_upsert(
        name="中共呼和浩特市委组织部", kind=OrgKind.ORGDEPT, level=OrgLevel.CITY, jurisdiction="hohhot",
        parent=o["hohhot"], short_name="呼组",
    )
    o["hohhot_water"] = organisation_upsert(
        name="呼和浩特市水务局", kind=OrgKind.UNIT, level=OrgLevel.CITY, jurisdiction="hohhot", parent=o["hohhot"]
    )

    u: dict[str, User] = {}
    u["admin"] = user_upsert(username="admin", password=password, full_name="系统管理员", is_superuser=True)
    u["inspector"] = user_upsert(username="inspector", password=password, full_name="赵纪检")
    u["committee"] = user_upsert(username="committee", password=password, full_name="钱常委")
    u["committee_b"] = user_upsert(username="committee_b", password=password, full_name="孙常委")
    u["orgdept"] = user_upsert(username="orgdept", password=password, full_name="周组工")
    u["cadre"] = user_upsert(username="cadre", password=password, full_name="王某")
    u["cadre2"] = user_upsert(username="cadre2", password=password, full_name="李某")
    u["inspector2"] = user_upsert(username="inspector2", password=password, full_name="吴纪检")
    u["inspector_b"] = user_upsert(username="inspector_b", password=password, full_name="冯纪检")
    u["committee2"] = user_upsert(username="committee2", password=password, full_name="郑常委")
    u["inspector3"] = user_upsert(username="inspector3", password=password, full_name="韩纪检")
    u["committee3"] = user_upsert(username="committee3", password=password, full_name="杨常委")
    u["unit"] = user_upsert(username="unit", password=password, full_name="马经办")
    u["auditor"] = auditor_upsert(username="auditor", password=password, full_name="审计员")
    membership_grant(user=u["inspector"], organisation=o["zjk_dc"], role=Role.INSPECTOR)
    membership_grant(user=u["committee"], organisation=o["zjk"], role=Role.COMMITTEE)
    membership_grant(user=u["committee_b"], organisation=o["zjk"], role=Role.COMMITTEE)
    membership_grant(user=u["orgdept"], organisation=o["zjk_od"], role=Role.ORGDEPT)
    membership_grant(user=u["cadre"], organisation=o["zjk_env"], role=Role.CADRE)
    membership_grant(user=u["cadre2"], organisation=o["zjk_env"], role=Role.CADRE)
    membership_grant(user=u["inspector2"], organisation=o["zz_dc"], role=Role.INSPECTOR)
    membership_grant(user=u["inspector_b"], organisation=o["zjk_dc"], role=Role.INSPECTOR)
    membership_grant(user=u["committee2"], organisation=o["zz"], role=Role.COMMITTEE)
    membership_grant(user=u["inspector3"], organisation=o["hohhot_dc"], role=Role.INSPECTOR)
    membership_grant(user=u["committee3"], organisation=o["hohhot"], role=Role.COMMITTEE)
    membership_grant(user=u["unit"], organisation=o["zjk_housing"], role=Role.UNIT)

    p: dict[str, Person] = {}
    p["cadre"] = person_upsert(name="王某", unit=o["zjk_env"], position="执法科科长", rank="四级调研员", user=u["cadre"])
    p["cadre2"] = person_upsert(name="李某", unit=o["zjk_env"], position="监测站站长", rank="一级主任科员", user=u["cadre2"])
    p["housing1"] = person_upsert(name="张某", unit=o["zjk_housing"], position="城建科科长", rank="四级调研员")
    p["housing2"] = person_upsert(name="刘某", unit=o["zjk_housing"], position="副局长", rank="二级调研员")
    p["zz1"] = person_upsert(name="陈某", unit=o["zz_transport"], position="规划处处长", rank="三级调研员")
    p["zz2"] = person_upsert(name="周某", unit=o["zz_transport"], position="建设科科长", rank="一级主任科员")
    p["hh1"] = person_upsert(name="高某", unit=o["hohhot_water"], position="供水科科长", rank="四级调研员")
    p["housing_unit"] = unit_party_ensure(o["zjk_housing"])
    return DemoWorld(password=password, generated=generated, orgs=o, users=u, people=p)
