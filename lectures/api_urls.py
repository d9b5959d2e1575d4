from django.urls import path
from rest_framework.routers import DefaultRouter

from lectures import api

router = DefaultRouter()
router.register("courses", api.CourseViewSet, basename="course")
router.register("enrollments", api.EnrollmentViewSet, basename="enrollment")
router.register("lectures", api.LectureViewSet, basename="lecture")

urlpatterns = [path("me/", api.MeView.as_view(), name="api-me"), *router.urls]
