"""What the validator and code-set tests share: a refusal checked for its words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ketadesk.errors import InvalidValue


def expect_rejected(validator: Callable[[Any], object], value: object, *fragments: str) -> str:
    """Assert ``validator(value)`` raises InvalidValue whose message holds every fragment."""
    with pytest.raises(InvalidValue) as info:
        validator(value)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message
