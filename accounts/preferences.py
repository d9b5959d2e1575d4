"""Caption display preferences, kept per user so they follow a student to any computer."""

from typing import Any, TypedDict

from django.core.exceptions import ValidationError


class CaptionPreferences(TypedDict):
    font_scale: float  # 1.0 = the page's base size
    line_height: float
    theme: str  # "light", "dark" or "yellow" (yellow on black)
    position: str  # "full" page, or a caption band at the "bottom" or "top"
    highlight_keywords: bool  # the lecture's keywords in bold in the captions


DEFAULT_CAPTION_PREFERENCES: CaptionPreferences = {
    "font_scale": 1.5,
    "line_height": 1.6,
    "theme": "light",
    "position": "full",
    "highlight_keywords": True,
}
THEMES = ("light", "dark", "yellow")
POSITIONS = ("full", "bottom", "top")
FONT_SCALE_RANGE = (0.75, 4.0)
LINE_HEIGHT_RANGE = (1.0, 3.0)


def _number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{name} must be a number")
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}")
    return float(value)


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(choices)}")
    return str(value)


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{name} must be true or false")
    return value


def _validated(key: str, value: Any) -> float | str | bool:
    if key == "font_scale":
        return _number(value, key, *FONT_SCALE_RANGE)
    if key == "line_height":
        return _number(value, key, *LINE_HEIGHT_RANGE)
    if key == "theme":
        return _choice(value, key, THEMES)
    if key == "position":
        return _choice(value, key, POSITIONS)
    if key == "highlight_keywords":
        return _flag(value, key)
    raise ValidationError(f"unknown preference: {key}")


def caption_preferences_of(stored: Any) -> CaptionPreferences:
    """What a page should apply: the defaults, overridden by whatever stored value is valid."""
    result: dict[str, Any] = dict(DEFAULT_CAPTION_PREFERENCES)
    if isinstance(stored, dict):
        for key, value in stored.items():
            try:
                result[key] = _validated(key, value)
            except ValidationError:
                continue  # a value from an older version of the page: keep the default
    return result  # type: ignore[return-value]


def merge_caption_preferences(stored: Any, changes: Any) -> CaptionPreferences:
    """Stored preferences with `changes` applied; unknown keys or bad values are refused."""
    if not isinstance(changes, dict):
        raise ValidationError("preferences must be a JSON object")
    merged: dict[str, Any] = dict(caption_preferences_of(stored))
    for key, value in changes.items():
        merged[key] = _validated(key, value)
    return merged  # type: ignore[return-value]
