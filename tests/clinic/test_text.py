"""Search keys: folding typed and stored words alike (clinic/text.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketadesk.clinic import text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Zoë Łukasiewicz", "zoe lukasiewicz"),
        ("  O'Brien  Smith ", "o'brien smith"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),
        ("Nguyễn Văn", "nguyen van"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert text.fold(raw) == folded


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_is_folded_as_the_full_unicode_path_folds_it(raw: str) -> None:
    # fold() takes a short cut for ASCII, which is most of what is typed; it must agree
    # with the long way, or stored keys and typed words would part.
    assert text.fold(raw) == text._fold_unicode(raw)
