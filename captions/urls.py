from django.urls import path

from captions import correction_views, views

urlpatterns = [
    path("lectures/<int:lecture_id>/broadcast/", views.lecture_broadcast, name="lecture_broadcast"),
    path("lectures/<int:lecture_id>/live/", views.lecture_live, name="lecture_live"),
    path("search/", views.search, name="search"),
    path(
        "lectures/<int:lecture_id>/captions/<int:seq>/edit/",
        correction_views.caption_correct,
        name="caption_correct",
    ),
    path(
        "lectures/<int:lecture_id>/captions/<int:seq>/merge/",
        correction_views.caption_merge,
        name="caption_merge",
    ),
    path(
        "lectures/<int:lecture_id>/captions/<int:seq>/split/",
        correction_views.caption_split,
        name="caption_split",
    ),
]
