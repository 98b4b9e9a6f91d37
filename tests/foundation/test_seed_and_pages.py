"""The demo world, signing in as each demo user, and the API's identity endpoints."""

import pytest
from django.core.management import call_command

from accounts.models import Membership, Organisation, Person, User
from tests.conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

DEMO_USERS = ["admin", "inspector", "committee", "orgdept", "cadre", "cadre2", "inspector2", "ruleset_editor",
              "ruleset_editor_b"]


def test_seed_demo_is_idempotent_and_links_cadres(capsys):
    call_command("seed_demo", password=DEMO_PASSWORD)
    counts = (Organisation.objects.count(), Person.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("seed_demo", password=DEMO_PASSWORD)

    assert (Organisation.objects.count(), Person.objects.count(), User.objects.count(),
            Membership.objects.count()) == counts
    assert User.objects.get(username="cadre").person.name == "王某"
    assert User.objects.get(username="cadre2").person.unit.name == "张家口市生态环境局"
    assert Organisation.objects.get(name="河北省纪委监委").level == "province"
    assert Organisation.objects.get(name="郑州市纪委监委").jurisdiction == "henan"
    out = capsys.readouterr().out
    for username in DEMO_USERS:
        assert username in out


def test_seed_demo_has_two_rule_set_editors_one_to_edit_one_to_review(client):
    from accounts.models import Role
    from workflow.management.demo.world import DEMO_LOGINS, USERS

    call_command("seed_demo", password=DEMO_PASSWORD)
    # Every demo login is created and listed; the two editors are the only holders of the editor role.
    assert set(User.objects.values_list("username", flat=True)) == set(USERS)
    assert {u for u, _ in DEMO_LOGINS} == set(USERS)
    editors = Membership.objects.filter(role=Role.RULESET_EDITOR).select_related("user", "organisation")
    assert sorted((m.user.username, m.organisation.name) for m in editors) == [
        ("ruleset_editor", "张家口市纪委监委"), ("ruleset_editor_b", "张家口市纪委监委")]
    for username in ("ruleset_editor", "ruleset_editor_b"):
        client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
        page = client.get("/workbench/")
        assert page.status_code == 200
        assert "张家口市纪委监委" in page.content.decode()
    client.post("/login/", {"username": "inspector", "password": DEMO_PASSWORD})
    assert client.get("/workbench/").status_code == 404


def test_seed_demo_without_password_prints_a_random_one_once(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "密码（仅显示这一次）" in line)
    password = line.split("：", 1)[1].strip()
    assert len(password) >= 10
    assert User.objects.get(username="inspector").check_password(password)


@pytest.mark.parametrize("username", DEMO_USERS)
def test_each_demo_user_signs_in_and_sees_a_chinese_home_page(client, world, username):
    response = client.post("/login/", {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302

    page = client.get("/")

    assert page.status_code == 200
    text = page.content.decode()
    assert '<html lang="zh-Hans">' in text
    assert "容错纠错案件管理系统" in text
    assert world.users[username].display_name() in text


def test_wrong_password_shows_chinese_error_and_no_session(client, world):
    response = client.post("/login/", {"username": "inspector", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode()
    assert client.get("/").status_code == 302


def test_token_and_me_api(client, world):
    token = client.post("/api/auth/token/", {"username": "cadre", "password": DEMO_PASSWORD},
                        content_type="application/json").json()["token"]

    me = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}").json()

    assert me["username"] == "cadre"
    assert me["roles"] == ["cadre"]
    assert me["organisation"]["name"] == "张家口市生态环境局"
    assert me["person"]["name"] == "王某"


def test_bad_token_request_names_the_field(client, world):
    response = client.post("/api/auth/token/", {"username": "cadre"}, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "password"
    assert "password" in body["detail"]
    wrong = client.post("/api/auth/token/", {"username": "cadre", "password": "nope-nope"},
                        content_type="application/json")
    assert wrong.status_code == 400
    assert "用户名或密码错误" in wrong.json()["detail"]


def test_api_docs_are_served_without_external_assets(client, world):
    client.force_login(world.users["inspector"])
    page = client.get("/api/docs/").content.decode()
    assert "swagger" in page.lower()
    assert "cdn" not in page.lower()
    assert "https://" not in page
    assert client.get("/api/schema/").status_code == 200


def test_api_without_credentials_is_401_with_a_token_challenge(client, world):
    response = client.get("/api/cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert client.get("/api/cases/", HTTP_AUTHORIZATION="Token not-a-real-token").status_code == 401
