"""Files shipped inside the package, found beside this module in a checkout, a wheel and a Docker image alike.

`config/protocols.yaml` in the repository is the same file, kept there for users to copy and edit (a test
holds the two identical)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PROTOCOLS_FILE = Path(str(files(__name__) / "protocols.yaml"))
