"""Staff manage ordinary users in the admin but can never raise anyone's rights, touch another
staff account, or read an API token (issue 15, item 1)."""

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from accounts.models import User
from tests.conftest import PASSWORD, World, client_for, make_user


def change_form_data(user: User, **changes: str) -> dict[str, str]:
    """What the admin's change form posts for `user` (as a browser would), plus `changes`."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": user.role,
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(changes)
    return data


def test_staff_cannot_make_themselves_superuser(world: World) -> None:
    url = reverse("admin:accounts_user_change", args=[world.staff.pk])
    client = client_for(world.staff)
    response = client.post(url, change_form_data(world.staff, is_superuser="on", is_staff="on"))
    assert response.status_code == 302  # saved, without the privilege fields
    world.staff.refresh_from_db()
    assert world.staff.is_staff
    assert not world.staff.is_superuser


def test_staff_cannot_grant_themselves_groups_or_permissions(world: World) -> None:
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="everything")
    permission = Permission.objects.get(codename="add_group")
    url = reverse("admin:accounts_user_change", args=[world.staff.pk])
    data = change_form_data(world.staff, groups=str(group.pk))
    data["user_permissions"] = str(permission.pk)
    client_for(world.staff).post(url, data)
    assert not world.staff.groups.exists()
    assert not world.staff.user_permissions.exists()
    assert not world.staff.has_perm("auth.add_group")


def test_staff_cannot_make_a_student_staff(world: World) -> None:
    url = reverse("admin:accounts_user_change", args=[world.student.pk])
    client = client_for(world.staff)
    response = client.post(url, change_form_data(world.student, is_staff="on", role="instructor"))
    assert response.status_code == 302
    world.student.refresh_from_db()
    assert not world.student.is_staff
    assert world.student.role == "instructor"  # ordinary fields are theirs to manage


def test_staff_cannot_change_or_reset_the_password_of_a_superuser(world: World) -> None:
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client = client_for(world.staff)
    change = client.post(
        reverse("admin:accounts_user_change", args=[root.pk]), change_form_data(root)
    )
    assert change.status_code == 403
    password = client.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"password1": "taken-over-123", "password2": "taken-over-123", "usable_password": "true"},
    )
    assert password.status_code == 403
    root.refresh_from_db()
    assert root.check_password(PASSWORD)


def test_staff_cannot_delete_another_staff_account_even_in_bulk(world: World) -> None:
    colleague = make_user("staff2", staff=True)
    client = client_for(world.staff)
    delete_url = reverse("admin:accounts_user_delete", args=[colleague.pk])
    single = client.post(delete_url, {"post": "yes"})
    assert single.status_code == 403
    bulk = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "delete_selected", "_selected_action": [colleague.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert User.objects.filter(pk=colleague.pk).exists()


def test_staff_can_still_manage_an_ordinary_user(world: World) -> None:
    url = reverse("admin:auth_user_password_change", args=[world.student.pk])
    response = client_for(world.staff).post(
        url, {"password1": "new-pass-4567xyz", "password2": "new-pass-4567xyz"}
    )
    assert response.status_code == 302
    world.student.refresh_from_db()
    assert world.student.check_password("new-pass-4567xyz")


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:knox_authtoken_changelist",
        "admin:auth_group_changelist",
        "admin:auth_group_add",
        "admin:axes_accessattempt_changelist",
    ],
)
def test_staff_cannot_open_tokens_groups_or_lockouts(world: World, url_name: str) -> None:
    assert client_for(world.staff).get(reverse(url_name)).status_code == 403


def test_a_superuser_manages_privileges(world: World) -> None:
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    url = reverse("admin:accounts_user_change", args=[world.student.pk])
    response = client_for(root).post(url, change_form_data(world.student, is_staff="on"))
    assert response.status_code == 302
    world.student.refresh_from_db()
    assert world.student.is_staff


def test_api_tokens_are_stored_as_digests_and_never_shown_again(world: World) -> None:
    answer = Client().post(
        "/api/auth/token/", {"username": world.student.username, "password": PASSWORD}
    )
    assert answer.status_code == 200
    token = answer.json()["token"]
    stored = AuthToken.objects.get(user=world.student)
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # SHA-512, hex
    root = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    admin_list = client_for(root).get(reverse("admin:knox_authtoken_changelist"))
    assert admin_list.status_code == 200
    assert token not in admin_list.content.decode()
    me = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.json()["username"] == world.student.username
