"""Administrators manage accounts: roles and blocking, never their own."""

from __future__ import annotations

from commons import auth as accounts
from commons import page_queries
from tests.conftest import PASSWORD


def test_admin_changes_a_role_and_blocks_an_account(client, auth, admin, member) -> None:
    auth.login(admin)
    listing = client.get("/admin/users").get_data(as_text=True)
    assert member.name in listing and admin.name in listing
    promoted = client.post(f"/admin/users/{member.id}", data={"action": "role", "role": "editor"})
    assert promoted.status_code == 302
    assert accounts.find_user(member.name).role == "editor"
    blocked = client.post(f"/admin/users/{member.id}", data={"action": "block"})
    assert blocked.status_code == 302
    assert accounts.find_user(member.name).blocked is True
    other = client.application.test_client()
    refused = other.post("/login", data={"name": member.name, "password": PASSWORD})
    assert refused.status_code == 403
    unblocked = client.post(f"/admin/users/{member.id}", data={"action": "unblock"})
    assert unblocked.status_code == 302
    assert accounts.find_user(member.name).blocked is False


def test_bad_requests_change_nothing(client, auth, admin, member) -> None:
    auth.login(admin)
    response = client.post(
        f"/admin/users/{member.id}",
        data={"action": "role", "role": "emperor"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400 and "Unknown role" in response.get_data(as_text=True)
    assert accounts.find_user(member.name).role == "member"
    own = client.post(f"/admin/users/{admin.id}", data={"action": "block"})
    assert own.status_code == 400 and accounts.find_user(admin.name).blocked is False
    own_role = client.post(f"/admin/users/{admin.id}", data={"action": "role", "role": "reader"})
    assert own_role.status_code == 400 and accounts.find_user(admin.name).role == "admin"
    assert client.post("/admin/users/9999", data={"action": "block"}).status_code == 404


def test_a_blocked_member_can_no_longer_edit(client, auth, admin, member) -> None:
    auth.login(member)
    accounts.set_blocked(member, True, by=admin)
    response = client.post(
        "/wiki/essai/edit", data={"title": "Essai", "body": "x", "accept_license": "on"}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert page_queries.find("essai") is None
