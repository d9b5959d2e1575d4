"""System tools the helpers need (espeak-ng, Java, Chromium): found, or a clear `MissingTool`."""

import shutil


class MissingTool(RuntimeError):
    """A system tool is not installed. The test suite skips the test (fails it with
    HEARUS_REQUIRE_TOOLS=1, as CI does); a benchmark stops with this message."""


def require_tool(name: str, install_hint: str) -> str:
    """The path of the program `name`, or `MissingTool` saying how to install it."""
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} is not installed ({install_hint})")
    return path
