"""Helpers shared by the test suite (tests/) and the benchmarks (bench/); not application code.

- `speech`: speech made on the spot by espeak-ng, PCM16 frames and silence;
- `texts`: the fixture texts (spoken English and Korean, Korean lecture captions);
- `engines`: Whisper engine wrappers: one that counts its calls, one slower than real time;
- `daphne`: a real Daphne server in a child process; `slow_asgi`: the application it serves
  when the server must fall behind the speech by itself (the slow engine);
- `cpu_hogs`: processes that each burn one core beside a benchmark;
- `tools`: `MissingTool`, raised when a system tool (espeak-ng, ...) is not installed.

Nothing here imports pytest: the benchmarks run without it. The test suite turns `MissingTool`
into a skip (a failure with HEARUS_REQUIRE_TOOLS=1; see tests/conftest.py). The application
never imports this package, and the Docker image leaves it out (.dockerignore).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The folder `dev.py setup` and the server use too (MODEL_CACHE_DIR's default): assembled once.
MODEL_CACHE_DIR = ROOT / "var" / "models"
