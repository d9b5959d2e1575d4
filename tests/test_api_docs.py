import re

from django.test import Client

from tests.conftest import PASSWORD, World


def test_the_openapi_schema_describes_every_endpoint(db: None) -> None:
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/courses/",
        "/api/courses/{id}/regenerate-join-code/",
        "/api/enrollments/",
        "/api/lectures/",
        "/api/lectures/{id}/start/",
        "/api/lectures/{id}/end/",
        "/api/me/",
    ]:
        assert path in paths


def test_the_browsable_docs_load_their_assets_from_this_server(db: None) -> None:
    html = Client().get("/api/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    # Its own start-up script comes from the page's URL (?script=): no inline script (CSP).
    assert all(a.startswith(("/static/", "/api/docs/?script")) for a in assets), assets
    assert "<script>" not in html
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_a_token_authenticates_api_calls(world: World) -> None:
    client = Client()
    token = client.post("/api/auth/token/", {"username": "stu_a", "password": PASSWORD}).json()
    response = Client().get("/api/me/", HTTP_AUTHORIZATION=f"Token {token['token']}")
    assert response.status_code == 200
    assert response.json()["username"] == "stu_a"


def test_a_bad_token_is_refused(world: World) -> None:
    response = Client().get("/api/courses/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401


def test_a_bad_course_filter_is_a_400(world: World) -> None:
    client = Client()
    client.force_login(world.student)
    assert client.get("/api/lectures/?course=abc").status_code == 400
