"""Helpers shared by the test suite (tests/) and the benchmarks (bench/); not application code.

- `speech`: speech made on the spot by espeak-ng, PCM16 frames and silence;
- `texts`: the fixture texts (spoken English and Korean, Korean lecture captions);
- `engines`: a Whisper engine wrapper that counts its calls;
- `daphne`: a real Daphne server in a child process;
- `tools`: `MissingTool`, raised when a system tool (espeak-ng, ...) is not installed.

Nothing here imports pytest: the benchmarks run without it. The test suite turns `MissingTool`
into a skip (a failure with HEARUS_REQUIRE_TOOLS=1; see tests/conftest.py). The application
never imports this package, and the Docker image leaves it out (.dockerignore).
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The folder `dev.py setup` and the server use too (MODEL_CACHE_DIR's default): assembled once.
MODEL_CACHE_DIR = ROOT / "var" / "models"
