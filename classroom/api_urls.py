from django.urls import path
from rest_framework.routers import DefaultRouter

from accounts.api import CaptionPreferencesView, MeView
from captions.api import SearchView
from classroom import api

router = DefaultRouter()
router.register("courses", api.CourseViewSet, basename="course")
router.register("enrollments", api.EnrollmentViewSet, basename="enrollment")
router.register("lectures", api.LectureViewSet, basename="lecture")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("me/caption-preferences/", CaptionPreferencesView.as_view(), name="api-caption-prefs"),
    path("search/", SearchView.as_view(), name="api-search"),
    *router.urls,
]
