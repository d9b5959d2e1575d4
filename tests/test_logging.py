import json
import logging

from hearus_site.logging import JsonFormatter


def test_log_lines_are_json_with_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "hearus", "levelname": "INFO", "msg": "lecture %s started", "args": (7,)}
    )
    record.lecture_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "lecture 7 started"
    assert line["lecture_id"] == 7
    assert line["level"] == "INFO"
