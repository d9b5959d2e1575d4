from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import PASSWORD, World, client_for, make_user


def test_sign_up_makes_a_logged_in_student_even_if_the_form_asks_for_more(db: None) -> None:
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "username": "jiwoo",
            "first_name": "지우",
            "last_name": "한",
            "email": "jiwoo@example.ac.kr",
            "password1": "a-long-unusual-passphrase",
            "password2": "a-long-unusual-passphrase",
            "role": "instructor",
            "is_staff": "on",
        },
    )
    assert response["Location"] == reverse("dashboard")
    user = User.objects.get(username="jiwoo")
    assert user.role == User.Role.STUDENT
    assert not user.is_staff
    assert client.get(reverse("dashboard")).status_code == 200


def test_sign_up_explains_mismatched_passwords(db: None) -> None:
    response = Client().post(
        reverse("signup"),
        {"username": "x", "password1": "a-long-unusual-passphrase", "password2": "other-one-9"},
    )
    assert response.status_code == 400
    assert "password fields didn" in response.content.decode()
    assert not User.objects.filter(username="x").exists()


def test_log_in_and_log_out(world: World) -> None:
    client = Client()
    response = client.post(reverse("login"), {"username": "stu_a", "password": PASSWORD})
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_a_wrong_password_does_not_log_in(world: World) -> None:
    response = Client().post(reverse("login"), {"username": "stu_a", "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_a_user_changes_their_password(db: None) -> None:
    user = make_user("changer")
    client = client_for(user)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "brand-new-passphrase-42",
            "new_password2": "brand-new-passphrase-42",
        },
    )
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password("brand-new-passphrase-42")


def test_the_login_page_sends_anonymous_visitors_back_after_login(world: World) -> None:
    target = reverse("course_detail", args=[world.course.pk])
    response = Client().get(target)
    assert response["Location"] == f"{reverse('login')}?next={target}"
