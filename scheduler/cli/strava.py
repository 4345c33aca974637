"""Commands registered by this module land with their issue."""

from __future__ import annotations
