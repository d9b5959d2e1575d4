"""Korean is the default language; English is one switch away; the Korean catalogue is complete.

The test settings use English (LANGUAGE_CODE = "en"), so the tests that need the product's real
default set LANGUAGE_CODE back to "ko" through pytest-django's `settings` fixture.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation
from pytest_django import Settings

LOGIN_URL = "/accounts/login/"
SET_LANGUAGE_URL = "/i18n/setlang/"
PO_PATH = Path(django_settings.BASE_DIR) / "locale" / "ko" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# A few strings every Korean page must show, with the translation the catalogue gives them.
SPOT_CHECKS = {
    "Log in": "로그인",
    "My courses": "내 강의",
    "Join code": "참여 코드",
    "Live now": "지금 진행 중",
}

PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")


@pytest.fixture
def korean_default(settings: Settings) -> Settings:
    settings.LANGUAGE_CODE = "ko"
    return settings


# --- pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_login_page_is_korean_by_default(korean_default: Settings) -> None:
    response = Client().get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="ko")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ko">' in html
    assert f"<h1>{SPOT_CHECKS['Log in']}</h1>" in html
    assert "Hearus를 처음 사용하시나요?" in html
    assert "New to Hearus?" not in html


@pytest.mark.django_db
def test_login_page_is_korean_when_the_browser_asks_for_nothing(
    korean_default: Settings,
) -> None:
    response = Client().get(LOGIN_URL)

    html = response.content.decode()
    assert '<html lang="ko">' in html
    assert f"<h1>{SPOT_CHECKS['Log in']}</h1>" in html


@pytest.mark.django_db
def test_login_page_is_english_when_the_browser_asks_for_english(
    korean_default: Settings,
) -> None:
    response = Client().get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="en")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html
    assert "New to Hearus?" in html
    assert SPOT_CHECKS["Log in"] not in html


@pytest.mark.django_db
def test_language_switcher_sets_a_cookie_that_makes_the_next_page_english(
    korean_default: Settings,
) -> None:
    client = Client(enforce_csrf_checks=True)
    first = client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="ko")
    assert '<html lang="ko">' in first.content.decode()
    csrf_token = client.cookies[django_settings.CSRF_COOKIE_NAME].value

    switched = client.post(
        SET_LANGUAGE_URL,
        {"language": "en", "next": LOGIN_URL, "csrfmiddlewaretoken": csrf_token},
        HTTP_ACCEPT_LANGUAGE="ko",
    )

    assert switched.status_code == 302
    assert switched["Location"] == LOGIN_URL
    assert client.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "en"
    # The cookie beats the browser's Accept-Language.
    html = client.get(LOGIN_URL, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert '<html lang="en">' in html
    assert "<h1>Log in</h1>" in html


@pytest.mark.django_db
def test_language_switcher_refuses_a_post_without_csrf_token(
    korean_default: Settings,
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN_URL)

    response = client.post(SET_LANGUAGE_URL, {"language": "en", "next": LOGIN_URL})

    assert response.status_code == 403
    assert django_settings.LANGUAGE_COOKIE_NAME not in client.cookies


# --- the catalogue ----------------------------------------------------------------------------


@dataclass
class PoEntry:
    """One message of a .po file; `msgstr` holds msgstr or msgstr[0], msgstr[1]... in order."""

    msgid: str
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    line: int = 0


_PO_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _po_string(token: str) -> str:
    """The text of a quoted .po string: "a\\"b" -> a"b."""
    token = token.strip()
    assert token.startswith('"') and token.endswith('"'), token
    return re.sub(r"\\(.)", lambda m: _PO_ESCAPES.get(m.group(1), m.group(0)), token[1:-1])


def parse_po(text: str) -> list[PoEntry]:
    """A small .po reader for this test: entries in order, obsolete (#~) entries skipped."""
    entries: list[PoEntry] = []
    flags: set[str] = set()
    current: PoEntry | None = None
    target = ""  # which field a continuation line "..." extends
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#~"):
            flags = set()  # flags written above an obsolete entry belong to it
            continue
        if line.startswith("#,"):
            flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert current is not None, f"line {number}: string outside an entry"
            value = _po_string(line)
            if target == "msgid":
                current.msgid += value
            elif target == "msgid_plural":
                current.msgid_plural = (current.msgid_plural or "") + value
            elif target == "msgctxt":
                current.msgctxt = (current.msgctxt or "") + value
            else:
                current.msgstr[-1] += value
            continue
        keyword, _, rest = line.partition(" ")
        # An entry starts at msgctxt, or at msgid unless its msgctxt came just before.
        if keyword == "msgctxt" or (keyword == "msgid" and target != "msgctxt"):
            current = PoEntry(msgid="", flags=flags, line=number)
            entries.append(current)
            flags = set()
        assert current is not None, f"line {number}: {keyword} outside an entry"
        value = _po_string(rest)
        if keyword == "msgctxt":
            current.msgctxt = value
        elif keyword == "msgid":
            current.msgid = value
        elif keyword == "msgid_plural":
            current.msgid_plural = value
        elif keyword == "msgstr" or re.fullmatch(r"msgstr\[\d+\]", keyword):
            current.msgstr.append(value)
        else:
            raise AssertionError(f"line {number}: unexpected {keyword!r}")
        target = "msgstr" if keyword.startswith("msgstr") else keyword
    return entries


def _catalogue() -> tuple[PoEntry, list[PoEntry]]:
    entries = parse_po(PO_PATH.read_text(encoding="utf-8"))
    header = next(entry for entry in entries if entry.msgid == "" and entry.msgctxt is None)
    return header, [entry for entry in entries if entry is not header]


def _label(entry: PoEntry) -> str:
    return f"line {entry.line}: {entry.msgid!r}"


def _placeholders(text: str) -> list[str]:
    return sorted(match for match in PLACEHOLDER.findall(text) if match != "%%")


def test_po_reader_understands_plurals_contexts_and_continuation_lines() -> None:
    sample = "\n".join(
        [
            'msgid ""',
            'msgstr ""',
            '"Language: ko\\n"',
            "",
            "#, fuzzy, python-format",
            'msgctxt "button"',
            'msgid ""',
            '"Say \\"%(who)s\\" "',
            '"twice"',
            'msgid_plural "many"',
            'msgstr[0] "한 번"',
            "",
            '#~ msgid "gone"',
            '#~ msgstr "없어짐"',
        ]
    )

    header, entry = parse_po(sample)

    assert header.msgstr == ["Language: ko\n"]
    assert entry.msgctxt == "button"
    assert entry.msgid == 'Say "%(who)s" twice'
    assert entry.msgid_plural == "many"
    assert entry.msgstr == ["한 번"]
    assert entry.flags == {"fuzzy", "python-format"}


def test_korean_catalogue_header_declares_korean_with_one_plural_form() -> None:
    header, _entries = _catalogue()
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)

    assert "fuzzy" not in header.flags
    assert fields["Language"] == "ko"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"
    assert fields["Project-Id-Version"].startswith("Hearus")
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"


def test_every_message_in_the_korean_catalogue_is_translated_and_none_is_fuzzy() -> None:
    _header, entries = _catalogue()

    assert len(entries) > 50, "the catalogue looks truncated"
    untranslated = [_label(entry) for entry in entries if not all(s.strip() for s in entry.msgstr)]
    fuzzy = [_label(entry) for entry in entries if "fuzzy" in entry.flags]
    assert {"untranslated": untranslated, "fuzzy": fuzzy} == {"untranslated": [], "fuzzy": []}


def test_plural_messages_have_exactly_the_one_korean_form() -> None:
    _header, entries = _catalogue()

    plurals = [entry for entry in entries if entry.msgid_plural is not None]
    assert plurals, "expected at least one ngettext message"
    assert [_label(entry) for entry in plurals if len(entry.msgstr) != 1] == []


def test_translations_keep_every_placeholder_of_the_english_source() -> None:
    _header, entries = _catalogue()

    broken = [
        _label(entry)
        for entry in entries
        for msgstr in entry.msgstr
        if _placeholders(msgstr) != _placeholders(entry.msgid)
    ]
    assert broken == []


def test_the_product_name_is_not_translated() -> None:
    _header, entries = _catalogue()

    for entry in entries:
        if "Hearus" in entry.msgid:
            assert all("Hearus" in msgstr for msgstr in entry.msgstr), _label(entry)


def test_compiled_catalogue_matches_the_po_file() -> None:
    """The committed .mo must be compiled from the current .po: every message reads the same."""
    assert MO_PATH.exists(), "run: manage.py compilemessages -l ko"
    _header, entries = _catalogue()
    with MO_PATH.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = []
    for entry in entries:
        if entry.msgid_plural is not None:
            got = compiled.ngettext(entry.msgid, entry.msgid_plural, 1)
        elif entry.msgctxt is not None:
            got = compiled.pgettext(entry.msgctxt, entry.msgid)
        else:
            got = compiled.gettext(entry.msgid)
        if got != entry.msgstr[0]:
            stale.append(_label(entry))
    assert stale == [], "the .mo is older than the .po: run manage.py compilemessages -l ko"
    for english, korean in SPOT_CHECKS.items():
        assert compiled.gettext(english) == korean


def test_django_serves_the_korean_catalogue(korean_default: Settings) -> None:
    with translation.override("ko"):
        for english, korean in SPOT_CHECKS.items():
            assert translation.gettext(english) == korean
        assert (
            translation.ngettext(
                "%(count)d join code regenerated.", "%(count)d join codes regenerated.", 3
            )
            % {"count": 3}
            == "참여 코드 3개를 다시 만들었습니다."
        )
