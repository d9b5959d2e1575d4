"""hearus_site's ASGI application on a recogniser too slow for real time: the real Whisper, each
decode `HEARUS_ASR_EXTRA_S` seconds longer (`engines.SlowEngine`), as on a machine too busy to
keep up. For tests where the server must fall behind the speech by itself and measure it:

    daphne hearus_testkit.slow_asgi:application   (with HEARUS_ASR_EXTRA_S=4)
"""

import os

from captions import engine as live_engine
from hearus_site.asgi import application
from hearus_testkit.engines import SlowEngine

__all__ = ["application"]

# Every broadcast of this process gets its engine from `get_engine()`: load the real model now
# and hand out the slowed one instead.
live_engine._engine = SlowEngine(  # type: ignore[assignment]
    live_engine.get_engine(), float(os.environ["HEARUS_ASR_EXTRA_S"])
)
