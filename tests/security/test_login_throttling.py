"""Failed logins are counted per account and per address; past the limit both the login page
and the token endpoint answer 429 with a message, even to the right password, until the lock
expires or staff reset it (issue 15, item 2)."""

import secrets
from typing import Any

from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import PASSWORD, World

LIMIT = 10  # settings.AXES_FAILURE_LIMIT (LOGIN_FAILURE_LIMIT)


def form_login(username: str, password: str, address: str = "10.0.0.1") -> int:
    response = Client().post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code


def token_login(username: str, password: str, address: str = "10.0.0.1") -> tuple[int, Any]:
    response = Client().post(
        "/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address
    )
    return response.status_code, response.json()


def test_thirty_wrong_form_logins_lock_the_account(world: World) -> None:
    codes = [form_login("stu_a", "wrong", f"10.0.1.{n}") for n in range(30)]
    assert codes[: LIMIT - 1] == [200] * (LIMIT - 1)  # the form again, with its error
    assert set(codes[LIMIT:]) == {429}
    # The right password is refused too, from any address, while the lock lasts.
    assert form_login("stu_a", PASSWORD, "10.9.9.9") == 429
    # Other accounts are not affected.
    assert form_login("stu_b", PASSWORD, "10.9.9.8") == 302


def test_the_locked_login_page_says_why_and_when_to_retry(world: World) -> None:
    for n in range(LIMIT):
        form_login("stu_a", "wrong", f"10.0.2.{n}")
    response = Client(HTTP_ACCEPT_LANGUAGE="ko").post(
        reverse("login"), {"username": "stu_a", "password": PASSWORD}, REMOTE_ADDR="10.0.2.99"
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    text = response.content.decode()
    assert 'role="alert"' in text
    assert "15" in text


def test_thirty_wrong_token_requests_lock_the_account(world: World) -> None:
    answers = [token_login("stu_a", "wrong", f"10.0.3.{n}") for n in range(30)]
    assert [code for code, _ in answers[: LIMIT - 1]] == [400] * (LIMIT - 1)
    assert {code for code, _ in answers[LIMIT:]} == {429}
    code, body = token_login("stu_a", PASSWORD, "10.9.9.7")
    assert code == 429
    assert body["code"] == "locked_out"
    assert "15" in body["detail"]


def test_one_address_trying_many_accounts_is_locked(world: World) -> None:
    for n in range(LIMIT):
        form_login(f"nobody{n}", "guess", "10.0.4.1")
    assert form_login("stu_a", PASSWORD, "10.0.4.1") == 429
    assert token_login("stu_a", PASSWORD, "10.0.4.1")[0] == 429
    assert form_login("stu_a", PASSWORD, "10.0.4.2") == 302  # the account itself is fine


def test_form_and_token_failures_count_together(world: World) -> None:
    for n in range(LIMIT // 2):
        form_login("stu_a", "wrong", f"10.0.5.{n}")
        token_login("stu_a", "wrong", f"10.0.6.{n}")
    assert form_login("stu_a", PASSWORD, "10.0.7.1") == 429


def test_staff_reset_a_locked_account(world: World) -> None:
    for n in range(LIMIT):
        form_login("stu_a", "wrong", f"10.0.8.{n}")
    assert form_login("stu_a", PASSWORD, "10.0.8.50") == 429
    call_command("axes_reset_username", "stu_a")
    assert form_login("stu_a", PASSWORD, "10.0.8.51") == 302


def test_a_successful_login_clears_the_accounts_count(world: World) -> None:
    for n in range(LIMIT - 1):
        form_login("stu_a", "wrong", f"10.0.9.{n}")
    assert form_login("stu_a", PASSWORD, "10.0.9.100") == 302
    assert form_login("stu_a", "wrong", "10.0.9.101") == 200  # counting from zero again


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_load_balancer_a_forged_forwarded_for_does_not_help(world: World) -> None:
    """The load balancer appends the real peer; what the client wrote before it is ignored."""
    for n in range(LIMIT):
        Client().post(
            reverse("login"),
            {"username": f"nobody{n}", "password": "guess"},
            REMOTE_ADDR="10.1.0.1",  # the load balancer
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 198.51.100.7",
        )
    locked = Client().post(
        reverse("login"),
        {"username": "stu_a", "password": PASSWORD},
        REMOTE_ADDR="10.1.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.200, 198.51.100.7",
    )
    assert locked.status_code == 429
    other = Client().post(
        reverse("login"),
        {"username": "stu_a", "password": PASSWORD},
        REMOTE_ADDR="10.1.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.8",
    )
    assert other.status_code == 302


def test_sign_up_is_limited_per_address_and_per_account(world: World) -> None:
    def sign_up(username: str, address: str) -> int:
        return (
            Client()
            .post(
                reverse("signup"),
                {"username": username, "password1": "x", "password2": "y"},
                REMOTE_ADDR=address,
            )
            .status_code
        )

    # Addresses and a name of this run only: the limits live in the cache (Redis when
    # REDIS_URL is set), which outlives a test run by their window.
    run = secrets.randbelow(200) + 20
    codes = [sign_up(f"new{n}", f"10.{run}.0.1") for n in range(21)]
    assert codes[:20] == [400] * 20  # the form's own errors
    assert codes[20] == 429
    assert sign_up("fresh", f"10.{run}.0.2") == 400  # another address is fine
    # One account name tried from many addresses.
    target = f"target{secrets.token_hex(4)}"
    codes = [sign_up(target, f"10.{run}.1.{n}") for n in range(21)]
    assert codes[20] == 429


@override_settings(RATE_LIMITED_POSTS={"login": ("username", 3, 60)})
def test_the_limit_answers_429_with_retry_after(world: World) -> None:
    for _ in range(3):
        form_login("stu_a", "wrong", "10.4.0.1")
    response = Client().post(
        reverse("login"), {"username": "stu_a", "password": PASSWORD}, REMOTE_ADDR="10.4.0.1"
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
