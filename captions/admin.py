from django.contrib import admin
from django.http import HttpRequest

from captions.models import SegmentRevision, TranscriptSegment


class SegmentRevisionInline(admin.TabularInline[SegmentRevision, TranscriptSegment]):
    model = SegmentRevision
    extra = 0
    can_delete = False
    fields = ("edited_at", "edited_by", "previous_text", "text")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(TranscriptSegment)
class TranscriptSegmentAdmin(admin.ModelAdmin[TranscriptSegment]):
    """Read-only here: corrections go through the lecture page, which keeps the history and
    tells viewers."""

    list_display = ("lecture", "seq", "start_ms", "end_ms", "text", "edited_at")
    list_filter = ("lecture__course",)
    search_fields = ("text", "lecture__title")
    list_select_related = ("lecture",)
    readonly_fields = ("lecture", "seq", "start_ms", "end_ms", "text", "edited_at", "created_at")
    exclude = ("search_terms",)
    inlines = (SegmentRevisionInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
