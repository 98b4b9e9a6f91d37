"""The demo world: organisations of three jurisdictions, their cadres and one login per role.

Used by ``manage.py seed_demo``, the tests' ``world`` fixture and the benchmarks; never by a request.
It writes through the accounts services, so the demo is built the way real data is.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.models import Organisation, OrgKind, OrgLevel, Person, Role, User
from accounts.services import (
    auditor_upsert,
    membership_grant,
    organisation_upsert,
    person_upsert,
    unit_party_ensure,
    user_upsert,
)

DEMO_LOGINS: list[tuple[str, str]] = [
    ("admin", "系统管理员"),
    ("inspector", "张家口市纪委监委 纪检监察干部"),
    ("committee", "中共张家口市委 常委"),
    ("orgdept", "中共张家口市委组织部 干部"),
    ("cadre", "张家口市生态环境局 干部（王某）"),
    ("cadre2", "张家口市生态环境局 干部（李某）"),
    ("inspector2", "郑州市纪委监委 纪检监察干部（河南）"),
    ("inspector_b", "张家口市纪委监委 纪检监察干部（转交对象）"),
    ("inspector_up", "河北省纪委监委 纪检监察干部（审查应容未容问题）"),
    ("committee_b", "中共张家口市委 常委（回避、复核）"),
    ("committee2", "中共郑州市委 常委（河南）"),
    ("inspector3", "呼和浩特市纪委监委 纪检监察干部"),
    ("committee3", "中共呼和浩特市委 常委"),
    ("unit", "张家口市住房和城乡建设局 单位经办人（代干部申请容错）"),
    ("auditor", "审计员（只查阅、导出审计记录）"),
    ("ruleset_editor", "张家口市纪委监委 规则集编辑人员（规则集工作台）"),
    ("ruleset_editor_b", "张家口市纪委监委 规则集编辑人员（审核他人编辑的草稿）"),
]

_C, _D, _O = OrgKind.COMMITTEE, OrgKind.DISCIPLINE, OrgKind.ORGDEPT
_PROVINCE, _CITY = OrgLevel.PROVINCE, OrgLevel.CITY

# key: (name, kind, level, jurisdiction, parent key, short name); parents come before their children.
ORGANISATIONS: dict[str, tuple[str, str, str, str, str | None, str]] = {
    "hebei": ("中共河北省委", _C, _PROVINCE, "zhangjiakou", None, "冀"),
    "hebei_dc": ("河北省纪委监委", _D, _PROVINCE, "zhangjiakou", "hebei", "冀纪"),
    "hebei_od": ("中共河北省委组织部", _O, _PROVINCE, "zhangjiakou", "hebei", "冀组"),
    "zjk": ("中共张家口市委", _C, _CITY, "zhangjiakou", "hebei", "张"),
    "zjk_dc": ("张家口市纪委监委", _D, _CITY, "zhangjiakou", "zjk", "张纪容"),
    "zjk_od": ("中共张家口市委组织部", _O, _CITY, "zhangjiakou", "zjk", "张组"),
    "zjk_audit": ("张家口市审计局", OrgKind.FUNCTIONAL, _CITY, "zhangjiakou", "zjk", "张审"),
    "zjk_env": ("张家口市生态环境局", OrgKind.UNIT, _CITY, "zhangjiakou", "zjk", ""),
    "zjk_housing": ("张家口市住房和城乡建设局", OrgKind.UNIT, _CITY, "zhangjiakou", "zjk", ""),
    "henan": ("中共河南省委", _C, _PROVINCE, "henan", None, "豫"),
    "zz": ("中共郑州市委", _C, _CITY, "henan", "henan", "郑"),
    "zz_dc": ("郑州市纪委监委", _D, _CITY, "henan", "zz", "郑纪容"),
    "zz_od": ("中共郑州市委组织部", _O, _CITY, "henan", "zz", "郑组"),
    "zz_transport": ("郑州市交通运输局", OrgKind.UNIT, _CITY, "henan", "zz", ""),
    "hohhot": ("中共呼和浩特市委", _C, _CITY, "hohhot", None, "呼"),
    "hohhot_dc": ("呼和浩特市纪委监委", _D, _CITY, "hohhot", "hohhot", "呼纪容"),
    "hohhot_od": ("中共呼和浩特市委组织部", _O, _CITY, "hohhot", "hohhot", "呼组"),
    "hohhot_water": ("呼和浩特市水务局", OrgKind.UNIT, _CITY, "hohhot", "hohhot", ""),
}

# login: (full name, organisation key, role); the admin has no membership.
USERS: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("系统管理员", None, None),
    "inspector": ("赵纪检", "zjk_dc", Role.INSPECTOR),
    "committee": ("钱常委", "zjk", Role.COMMITTEE),
    "committee_b": ("孙常委", "zjk", Role.COMMITTEE),
    "orgdept": ("周组工", "zjk_od", Role.ORGDEPT),
    "cadre": ("王某", "zjk_env", Role.CADRE),
    "cadre2": ("李某", "zjk_env", Role.CADRE),
    "inspector2": ("吴纪检", "zz_dc", Role.INSPECTOR),
    "inspector_b": ("冯纪检", "zjk_dc", Role.INSPECTOR),
    "inspector_up": ("卫纪检", "hebei_dc", Role.INSPECTOR),
    "committee2": ("郑常委", "zz", Role.COMMITTEE),
    "inspector3": ("韩纪检", "hohhot_dc", Role.INSPECTOR),
    "committee3": ("杨常委", "hohhot", Role.COMMITTEE),
    "unit": ("马经办", "zjk_housing", Role.UNIT),
    "auditor": ("审计员", None, None),  # in the auditor group, no organisation role
    # Two editors so that one can review and publish what the other edited (an editor may not).
    "ruleset_editor": ("褚编辑", "zjk_dc", Role.RULESET_EDITOR),
    "ruleset_editor_b": ("蒋编辑", "zjk_dc", Role.RULESET_EDITOR),
}

# key: (name, unit key, position, rank, login or None)
CADRES: dict[str, tuple[str, str, str, str, str | None]] = {
    "cadre": ("王某", "zjk_env", "执法科科长", "四级调研员", "cadre"),
    "cadre2": ("李某", "zjk_env", "监测站站长", "一级主任科员", "cadre2"),
    "housing1": ("张某", "zjk_housing", "城建科科长", "四级调研员", None),
    "housing2": ("刘某", "zjk_housing", "副局长", "二级调研员", None),
    "zz1": ("陈某", "zz_transport", "规划处处长", "三级调研员", None),
    "zz2": ("周某", "zz_transport", "建设科科长", "一级主任科员", None),
    "hh1": ("高某", "hohhot_water", "供水科科长", "四级调研员", None),
}


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
    """What ``demo_world_seed`` built, by the keys of the tables above (and ``housing_unit``)."""

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
    # Every demo login must pass the real password rules (checked against each username).
    for username, _ in DEMO_LOGINS:
        validate_password(password, User(username=username))
    o: dict[str, Organisation] = {}
    for key, (name, kind, level, jurisdiction, parent, short_name) in ORGANISATIONS.items():
        o[key] = organisation_upsert(name=name, kind=kind, level=level, jurisdiction=jurisdiction,
                                     parent=o[parent] if parent else None, short_name=short_name)
    u: dict[str, User] = {}
    for username, (full_name, _, _) in USERS.items():
        if username == "auditor":
            u[username] = auditor_upsert(username=username, password=password, full_name=full_name)
            continue
        u[username] = user_upsert(username=username, password=password, full_name=full_name,
                                  is_superuser=username == "admin")
    # Memberships after all logins, in the same order as always (ids stay as earlier runs made them).
    for username, (_, org_key, role) in USERS.items():
        if org_key and role:
            membership_grant(user=u[username], organisation=o[org_key], role=role)
    p: dict[str, Person] = {}
    for key, (name, unit, position, rank, login) in CADRES.items():
        p[key] = person_upsert(name=name, unit=o[unit], position=position, rank=rank,
                               user=u[login] if login else None)
    p["housing_unit"] = unit_party_ensure(o["zjk_housing"])
    return DemoWorld(password=password, generated=generated, orgs=o, users=u, people=p)
