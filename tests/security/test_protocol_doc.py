"""docs/protocol.md and captions/protocol.py say the same: every limit and every close code
(issue 15, item 5: the documented rate limits had drifted from the code's)."""

import inspect
import re
from pathlib import Path

from daphne.server import Server

from captions import protocol
from captions.protocol import CloseCode

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()


def table_rows(heading_text: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after the line containing `heading_text`."""
    after = DOC[DOC.index(heading_text) :]
    rows: list[list[str]] = []
    for line in after.splitlines()[1:]:
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def number(text: str) -> float:
    found = re.search(r"\d[\d,]*(?:\.\d+)?", text)
    assert found, text
    return float(found.group().replace(",", ""))


def test_every_documented_limit_is_the_codes() -> None:
    rows = table_rows("**Limits**")
    assert len(rows) >= 10
    for _what, value, source in rows:
        name = source.strip("`").split("`")[0]
        if name.startswith("Daphne"):
            default = inspect.signature(Server).parameters["websocket_max_message_size"].default
            assert number(value) == default, value
        else:
            assert number(value) == getattr(protocol, name), f"{name}: doc says {value}"


def test_every_protocol_constant_is_documented() -> None:
    documented = {row[2].strip("`") for row in table_rows("**Limits**")}
    for name in (
        "MAX_TEXT_MESSAGE_BYTES",
        "MAX_JSON_DEPTH",
        "MAX_FRAME_BYTES",
        "MAX_MESSAGES_PER_SECOND",
        "MESSAGE_BURST",
        "AUDIO_RATE_FACTOR",
        "AUDIO_BURST_S",
        "VIEWER_MESSAGES_PER_SECOND",
        "VIEWER_MESSAGE_BURST",
    ):
        assert name in documented


def test_the_close_code_table_is_the_codes() -> None:
    documented = {int(row[0]) for row in table_rows("## Close codes")}
    assert documented == {1000, 1012} | {int(code) for code in CloseCode}


def test_the_text_limit_in_the_close_code_table_is_the_codes() -> None:
    too_large = next(row for row in table_rows("## Close codes") if row[0] == "4413")
    assert f"{protocol.MAX_TEXT_MESSAGE_BYTES:,} bytes" in too_large[2]
    assert f"{protocol.MAX_FRAME_BYTES:,} bytes" in too_large[2]
