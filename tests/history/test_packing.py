"""Packing round trips: any document or figures row comes back exactly from its differences (property tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st

from memtop.history import packing
from memtop.history.codec import FIGURES

values = st.one_of(st.none(), st.booleans(), st.integers(-(2**62), 2**62), st.text(max_size=8),
                   st.lists(st.integers(0, 9), max_size=3))
docs = st.dictionaries(st.sampled_from(["sysk:MemFree", "vm:pgfault", "cg:/a", "cgsk:/a\0anon", "host", "x"]), values)
rows = st.lists(st.one_of(st.none(), st.integers(-(2**40), 2**40), st.sampled_from(["S", "R", "Z"])),
                min_size=len(FIGURES), max_size=len(FIGURES)).map(tuple)


@given(docs, docs)
def test_a_document_comes_back_from_its_differences(before: dict[str, Any], after: dict[str, Any]) -> None:
    doc = dict(before)
    packing.apply_doc(doc, packing.pack_doc(None, before))
    assert doc == before
    packing.apply_doc(doc, packing.pack_doc(before, after))
    assert doc == after


@given(rows, rows)
def test_figures_come_back_from_their_differences(before: tuple[Any, ...], after: tuple[Any, ...]) -> None:
    whole = packing.apply_figures(None, packing.pack_figures(None, before))
    assert tuple(whole) == before
    blob = packing.pack_sample_figures([(7, packing.pack_figures(before, after))])
    ((pid_id, entry),) = packing.unpack_sample_figures(blob)
    assert pid_id == 7 and tuple(packing.apply_figures(whole, entry)) == after
