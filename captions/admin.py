from django.contrib import admin

from captions.models import TranscriptSegment


@admin.register(TranscriptSegment)
class TranscriptSegmentAdmin(admin.ModelAdmin[TranscriptSegment]):
    list_display = ("lecture", "seq", "start_ms", "end_ms", "text")
    list_filter = ("lecture__course",)
    search_fields = ("text", "lecture__title")
    list_select_related = ("lecture",)
    raw_id_fields = ("lecture",)
