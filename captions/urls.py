from django.urls import path

from captions import views

urlpatterns = [
    path("lectures/<int:lecture_id>/broadcast/", views.lecture_broadcast, name="lecture_broadcast"),
    path("lectures/<int:lecture_id>/live/", views.lecture_live, name="lecture_live"),
]
