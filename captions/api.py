"""REST API for caption search: the same `search_segments` as the search page."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import request_user
from captions.search import MAX_LIMIT, SearchHit, search_segments
from lectures.params import MAX_ID, MAX_PAGE

DEFAULT_PAGE_SIZE = 20


class SearchParamsSerializer(serializers.Serializer[Any]):
    q = serializers.CharField(max_length=200, allow_blank=True, trim_whitespace=True)
    course = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=1)
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_PAGE_SIZE
    )


class SearchHitSerializer(serializers.Serializer[Any]):
    lecture = serializers.IntegerField(source="lecture_id")
    lecture_title = serializers.CharField()
    lecture_date = serializers.DateTimeField()
    course = serializers.IntegerField(source="course_id")
    course_code = serializers.CharField()
    seq = serializers.IntegerField()
    start_ms = serializers.IntegerField()
    end_ms = serializers.IntegerField()
    url = serializers.SerializerMethodField(help_text="The lecture page at this caption.")
    snippet = serializers.CharField(help_text="The caption (cut around the match when long).")
    highlights = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end) character spans of `snippet` that matched.",
    )
    snippet_html = serializers.CharField(help_text="`snippet` escaped, matches in <mark>.")
    rank = serializers.FloatField()

    def get_url(self, hit: SearchHit) -> str:
        return f"{reverse('lecture_detail', args=[hit.lecture_id])}#seg-{hit.seq}"


class SearchPageSerializer(serializers.Serializer[Any]):
    query = serializers.CharField()
    terms = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="What was searched: each group matches its words, or them joined (compound).",
    )
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SearchHitSerializer(many=True)


def _page_url(request: Request, page: int) -> str:
    params = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class SearchView(APIView):
    """Captions of the caller's lectures that match every word of `q`, best first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="the words to find"),
            OpenApiParameter("course", int, description="only this course"),
            OpenApiParameter("from", str, description="lectures on or after (YYYY-MM-DD)"),
            OpenApiParameter("to", str, description="lectures on or before (YYYY-MM-DD)"),
            OpenApiParameter("page", int, description="1, 2, ..."),
            OpenApiParameter("page_size", int, description=f"1 to {MAX_LIMIT} (default 20)"),
        ],
        responses=SearchPageSerializer,
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params
        params = SearchParamsSerializer(
            data={
                key: value
                for key, value in {
                    "q": raw.get("q"),
                    "course": raw.get("course"),
                    "date_from": raw.get("from"),
                    "date_to": raw.get("to"),
                    "page": raw.get("page"),
                    "page_size": raw.get("page_size"),
                }.items()
                if value not in (None, "") or key == "q"
            }
        )
        params.is_valid(raise_exception=True)
        data = params.validated_data
        page_number: int = data["page"]
        size: int = data["page_size"]
        page = search_segments(
            request_user(request),
            data["q"],
            course_id=data.get("course"),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            limit=size,
            offset=(page_number - 1) * size,
        )
        body = {
            "query": page.query,
            "terms": [list(term.atoms) for term in page.terms],
            "next": _page_url(request, page_number + 1) if page.has_more else None,
            "previous": _page_url(request, page_number - 1) if page_number > 1 else None,
            "results": SearchHitSerializer(page.hits, many=True).data,
        }
        return Response(body)
