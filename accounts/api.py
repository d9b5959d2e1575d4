"""The caller's own account: who they are and how they like their captions."""

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User, request_user
from accounts.preferences import caption_preferences_of, merge_caption_preferences
from accounts.throttle import lockout_response


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ("id", "username", "first_name", "last_name", "email", "role", "is_staff")
        read_only_fields = fields


class CaptionPreferencesSerializer(serializers.Serializer[Any]):
    font_scale = serializers.FloatField(min_value=0.75, max_value=4.0, required=False)
    line_height = serializers.FloatField(min_value=1.0, max_value=3.0, required=False)
    theme = serializers.ChoiceField(choices=["light", "dark", "yellow"], required=False)
    position = serializers.ChoiceField(choices=["full", "bottom", "top"], required=False)
    highlight_keywords = serializers.BooleanField(required=False)


class TokenSerializer(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="shown this once; only its SHA-512 digest is stored")
    expiry = serializers.DateTimeField(allow_null=True, help_text="null: until revoked")


class TokenView(APIView):
    """A new API token for a username and password. Failed attempts count towards the login
    lockout (accounts.throttle): 429 once an account or address is locked."""

    authentication_classes: list[type[Any]] = []
    permission_classes = [AllowAny]

    @extend_schema(request=AuthTokenSerializer, responses=TokenSerializer)
    def post(self, request: Request) -> Response:
        credentials = AuthTokenSerializer(data=request.data, context={"request": request})
        if not credentials.is_valid():
            # django-axes marks the request it was given (this DRF request) when it refused.
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request._request)  # type: ignore[return-value]
            raise ValidationError(credentials.errors)
        instance, token = AuthToken.objects.create(user=credentials.validated_data["user"])
        return Response({"token": token, "expiry": instance.expiry})


class MeView(APIView):
    """The authenticated user."""

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request_user(request)).data)


class CaptionPreferencesView(APIView):
    """Live caption display settings, remembered per user."""

    @extend_schema(responses=CaptionPreferencesSerializer)
    def get(self, request: Request) -> Response:
        return Response(caption_preferences_of(request_user(request).caption_preferences))

    @extend_schema(request=CaptionPreferencesSerializer, responses=CaptionPreferencesSerializer)
    def patch(self, request: Request) -> Response:
        """Only the keys sent change. Two changes in flight at once both stay: the row is
        locked while one is merged, so neither overwrites the other with stale values."""
        with transaction.atomic():
            user = User.objects.select_for_update().get(pk=request_user(request).pk)
            merged = merge_caption_preferences(user.caption_preferences, request.data)
            user.caption_preferences = dict(merged)
            user.save(update_fields=["caption_preferences"])
        return Response(merged)
