"""The caller's own account: who they are and how they like their captions."""

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User, request_user
from accounts.preferences import caption_preferences_of, merge_caption_preferences


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
