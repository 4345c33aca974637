"""What the HTTP edge accepts as a JSON body: well-formed, finite numbers only, shallow.

NaN and Infinity are not JSON (RFC 8259) and PostgreSQL refuses them in a json column; a deeply nested body
exhausts the parser's recursion. Both are refused here, before any receiver sees the bytes.
"""

from __future__ import annotations

import json
import math
from typing import Any

# Strava's events are two levels deep; nothing legitimate comes close.
MAX_DEPTH = 32


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 parses to inf without passing through parse_constant
        raise _NonFinite(text)
    return value


def _depth(value: Any) -> int:
    """Nesting depth of a parsed document, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def json_problem(body: bytes) -> str | None:
    """None when `body` is acceptable JSON; else a one-line reason to answer 400 with."""
    try:
        document = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NonFinite as error:
        return f"body is not JSON: {str(error)[:20]} is not a finite number"
    except RecursionError:
        return f"body nested deeper than {MAX_DEPTH} levels"
    except (ValueError, UnicodeDecodeError) as error:
        return f"body is not JSON ({type(error).__name__})"
    if _depth(document) > MAX_DEPTH:
        return f"body nested deeper than {MAX_DEPTH} levels"
    return None
