"""Password rules (等保 2.0 composition), rotation, forced reset, the change page, seed_demo's --password."""

import datetime as dt

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import User
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

STRONG = "Lx#9-qRt-2026"


@pytest.mark.parametrize("weak", ["Cadre2026", "20262026", "zhangsan", "short1A", "Password1!", "password"])
def test_weak_passwords_are_refused_with_chinese_messages(weak):
    user = User(username="zhangsan")
    with pytest.raises(ValidationError) as exc:
        validate_password(weak, user)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in m) for m in exc.value.messages), exc.value.messages


def test_cadre2026_is_refused_for_any_user_not_only_cadre():
    with pytest.raises(ValidationError) as exc:
        validate_password("Cadre2026", User(username="someone"))
    assert "单词加一串数字" in " ".join(exc.value.messages)


def test_password_containing_the_username_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_password("x#Inspector-77", User(username="inspector"))
    assert "不能包含用户名" in " ".join(exc.value.messages)


def test_strong_and_64_character_passwords_are_accepted():
    validate_password(STRONG, User(username="zhangsan"))
    validate_password("Aa1-" * 16, User(username="zhangsan"))
    validate_password(DEMO_PASSWORD, User(username="inspector"))


def test_seed_demo_refuses_a_weak_password():
    for weak in ("Cadre2026", "20262026", "zhangsan"):
        with pytest.raises(CommandError) as exc:
            call_command("seed_demo", password=weak)
        assert "密码" in str(exc.value)
    assert not User.objects.exists()


def test_seed_demo_generated_password_passes_the_rules(capsys):
    call_command("seed_demo")
    line = next(x for x in capsys.readouterr().out.splitlines() if "密码（仅显示这一次）" in x)
    validate_password(line.split("：", 1)[1].strip(), User.objects.get(username="inspector"))


def test_every_user_can_change_password_from_the_layout(client, world):
    client.force_login(world.users["cadre"])
    home = client.get("/").content.decode()
    assert 'href="/password/"' in home

    bad = client.post("/password/", {"old_password": DEMO_PASSWORD, "new_password1": "Cadre2026",
                                      "new_password2": "Cadre2026"})
    assert bad.status_code == 200 and "单词加一串数字" in bad.content.decode()

    ok = client.post("/password/", {"old_password": DEMO_PASSWORD, "new_password1": STRONG, "new_password2": STRONG})
    assert ok.status_code == 302 and ok["Location"] == "/login/"
    user = User.objects.get(username="cadre")
    assert user.check_password(STRONG)
    assert timezone.now() - user.password_changed_at < dt.timedelta(minutes=1)
    # This session ended with the change.
    assert client.get("/").status_code == 302


def test_expired_password_redirects_to_the_change_page(client, world, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(username="inspector").update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    client.force_login(User.objects.get(username="inspector"))

    response = client.get("/cases/")

    assert response.status_code == 302 and response["Location"] == "/password/"
    page = client.get("/password/").content.decode()
    assert "已超过 90 天未修改" in page
    api = client.get("/api/cases/")
    assert api.status_code == 403 and api.json()["code"] == "password_expired"


def test_rotation_can_be_turned_off(client, world, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    User.objects.filter(username="inspector").update(password_changed_at=timezone.now() - dt.timedelta(days=900))
    client.force_login(User.objects.get(username="inspector"))
    assert client.get("/cases/").status_code == 200


def test_admin_forces_a_reset(client, world):
    client.force_login(world.users["admin"])
    target = world.users["cadre2"]
    response = client.post("/admin/accounts/user/", {"action": "force_password_reset",
                                                     "_selected_action": [target.pk]})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.must_change_password

    client.post("/login/", {"username": "cadre2", "password": DEMO_PASSWORD})
    assert client.get("/mine/")["Location"] == "/password/"
    assert "管理员已重置您的密码" in client.get("/password/").content.decode()
    client.post("/password/", {"old_password": DEMO_PASSWORD, "new_password1": STRONG, "new_password2": STRONG})
    target.refresh_from_db()
    assert not target.must_change_password
