"""Late is visible: when the recogniser falls behind the speech, everyone on the lecture is told
"captions are delayed by N s" (a `delay` message), and told again when it has caught up."""

import asyncio
from pathlib import Path

import pytest
from channels.layers import get_channel_layer

from captions.engine import get_engine
from captions.live import DELAY_NOTICE_S, DelayNotice, LiveSession
from hearus_testkit.engines import SlowEngine
from hearus_testkit.speech import spoken_pcm16
from hearus_testkit.texts import ENGLISH_TEXT
from lectures import events
from ml.asr import run_in_asr_thread
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_notice_appears_past_three_seconds_and_clears_under_one_and_a_half() -> None:
    notice = DelayNotice()
    assert [notice.update(lag) for lag in (0.5, 2.0, DELAY_NOTICE_S)] == [None, None, None]
    assert notice.update(4.2) == 4
    assert notice.update(4.9) is None  # 5 s: not worth a new message
    assert notice.update(7.6) == 8
    assert notice.update(2.0) == 2  # falling, still behind
    assert notice.update(1.6) is None
    assert notice.update(1.0) == 0  # caught up: the notice goes away
    assert notice.update(2.5) is None  # under the threshold again: no flicker


async def test_a_lecture_that_falls_behind_says_so_and_then_says_it_caught_up(
    world: World, tmp_path: Path
) -> None:
    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    await layer.group_add(events.lecture_group(world.lecture.pk), channel)
    engine = SlowEngine(await run_in_asr_thread(get_engine), extra_s=2.5)
    session = LiveSession(lecture_id=world.lecture.pk, engine=engine, language="en", offset_ms=0)
    pcm = spoken_pcm16(ENGLISH_TEXT, "en-us", tmp_path, then_silence_s=1.0)
    frame = 3200  # 100 ms
    for start in range(0, len(pcm), frame):  # the speech arrives in real time...
        session.feed(pcm[start : start + frame])
        await asyncio.sleep(0.1)
    await session.finish()  # ... and everything heard is stored, however late

    delays = []
    while True:
        try:
            event = await asyncio.wait_for(layer.receive(channel), 0.5)
        except TimeoutError:
            break
        if event["message"]["type"] == "delay":
            delays.append(event["message"]["seconds"])
    assert delays, "no delay notice although every decode took 2.5 s longer"
    assert delays[0] >= round(DELAY_NOTICE_S)  # announced once the lag passed 3 s
    assert delays[-1] == 0  # cleared once caught up
    assert await world.lecture.segments.acount() > 1
