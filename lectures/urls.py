from django.urls import path

from lectures import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("courses/<int:course_id>/", views.course_detail, name="course_detail"),
    path(
        "courses/<int:course_id>/join-code/",
        views.course_regenerate_code,
        name="course_regenerate_code",
    ),
    path("courses/<int:course_id>/lectures/new/", views.lecture_create, name="lecture_create"),
    path("lectures/<int:lecture_id>/", views.lecture_detail, name="lecture_detail"),
    path("lectures/<int:lecture_id>/start/", views.lecture_start, name="lecture_start"),
    path("lectures/<int:lecture_id>/end/", views.lecture_end, name="lecture_end"),
]
