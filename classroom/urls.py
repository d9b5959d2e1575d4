from django.urls import path

from classroom import recording_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("courses/<int:course_id>/", views.course_detail, name="course_detail"),
    path(
        "courses/<int:course_id>/join-code/",
        views.course_regenerate_code,
        name="course_regenerate_code",
    ),
    path("courses/<int:course_id>/captioners/", views.course_captioners, name="course_captioners"),
    path("courses/<int:course_id>/vocabulary/", views.course_vocabulary, name="course_vocabulary"),
    path("courses/<int:course_id>/lectures/new/", views.lecture_create, name="lecture_create"),
    path("lectures/<int:lecture_id>/", views.lecture_detail, name="lecture_detail"),
    path("lectures/<int:lecture_id>/start/", views.lecture_start, name="lecture_start"),
    path("lectures/<int:lecture_id>/end/", views.lecture_end, name="lecture_end"),
    path("lectures/<int:lecture_id>/resume/", views.lecture_resume, name="lecture_resume"),
    path("lectures/<int:lecture_id>/reprocess/", views.lecture_reprocess, name="lecture_reprocess"),
    path(
        "lectures/<int:lecture_id>/export.<str:fmt>",
        views.lecture_export,
        name="lecture_export",
    ),
    path("lectures/<int:lecture_id>/audio/", views.lecture_audio, name="lecture_audio"),
    path(
        "lectures/<int:lecture_id>/recording/",
        recording_views.recording_upload,
        name="recording_upload",
    ),
    path(
        "lectures/<int:lecture_id>/recording/retry/",
        recording_views.recording_retry,
        name="recording_retry",
    ),
    path(
        "lectures/<int:lecture_id>/recording/audio/",
        recording_views.recording_audio,
        name="recording_audio",
    ),
    path(
        "lectures/<int:lecture_id>/recording/progress/",
        recording_views.recording_progress,
        name="recording_progress",
    ),
]
