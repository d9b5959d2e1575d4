import os

import pytest
from django.conf import settings
from django.test import Client, override_settings


def test_healthz_answers_without_touching_anything() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database_and_the_channel_layer() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": True, "channel_layer": True}


@pytest.mark.django_db
def test_readyz_is_degraded_but_serving_when_the_channel_layer_is_unreachable() -> None:
    """Captions are stored in the database and viewers read them from there meanwhile: the
    process stays in service and names what is missing."""
    unreachable = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    with override_settings(CHANNEL_LAYERS=unreachable):
        response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["channel_layer"] is False
    assert response.json()["degraded"] == ["channel_layer"]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set")
def test_with_redis_url_the_channel_layer_is_redis() -> None:
    assert str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).startswith("channels_redis.")


@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="DATABASE_URL is not set")
def test_with_database_url_the_database_is_that_one() -> None:
    url = os.environ["DATABASE_URL"]
    engine = settings.DATABASES["default"]["ENGINE"]
    assert url.startswith("postgres") == engine.endswith("postgresql")
