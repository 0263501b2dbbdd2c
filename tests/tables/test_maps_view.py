"""The drill-down's pure parts: status lines, VmFlags words, rows by kind and path, the header parse."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from memtop.collectors import smaps
from memtop.collectors.process_maps import parse_status_lines, status_size, status_text
from memtop.collectors.smaps import parse_smaps
from memtop.tables.mapping_rows import KINDS, SORT_FIELDS, analyse, rss_by_key, view_rows
from memtop.explain.smaps_fields import FIELD_HELP, VMFLAGS, decode_vmflags

from tests.maps_fixtures import LAYOUT, smaps_text

KIB = 1024


# -- status lines ------------------------------------------------------------
def test_status_lines_keep_every_field_and_sizes_convert() -> None:
    raw = b"Name:\tpython3\nUmask:\t0022\nVmPeak:\t   60000 kB\nTHP_enabled:\t1\nCpus_allowed_list:\t0-1\n"
    lines = parse_status_lines(raw)
    assert lines[0] == ("Name", "python3") and ("Cpus_allowed_list", "0-1") in lines
    assert status_size(lines, "VmPeak") == 60000 * KIB
    assert status_size(lines, "Umask") is None and status_size(lines, "VmSwap") is None
    assert status_text(lines, "THP_enabled") == "1"


@given(st.binary(max_size=400))
def test_status_lines_never_raise_and_keys_have_no_colon(raw: bytes) -> None:
    for key, value in parse_status_lines(raw):
        assert key and ":" not in key and "\n" not in value and value == value.strip()


@given(st.lists(st.tuples(st.from_regex(r"[A-Za-z_]{1,12}", fullmatch=True), st.integers(0, 10**12)), max_size=8))
def test_status_sizes_round_trip(pairs: list[tuple[str, int]]) -> None:
    raw = "".join(f"{k}:\t{v} kB\n" for k, v in pairs).encode()
    lines = parse_status_lines(raw)
    for key, value in pairs:
        first = next(v for k, v in pairs if k == key)
        assert status_size(lines, key) == first * KIB and value >= 0


# -- VmFlags -----------------------------------------------------------------
def test_vmflags_in_words_after_proc_rst() -> None:
    assert decode_vmflags(("rd", "hg", "nh", "mg", "dd")) == (
        ("rd", "readable"), ("hg", "THP advised (MADV_HUGEPAGE)"), ("nh", "THP disabled (MADV_NOHUGEPAGE)"),
        ("mg", "mergeable (KSM advised)"), ("dd", "not included in core dumps"))
    assert decode_vmflags(("zz",)) == (("zz", "(not in memtop's list)"),)


@given(st.lists(st.one_of(st.sampled_from(sorted(VMFLAGS)), st.text(max_size=3)), max_size=20))
def test_vmflags_decoding_keeps_every_code_in_order(codes: list[str]) -> None:
    decoded = decode_vmflags(codes)
    assert [code for code, _ in decoded] == codes
    assert all(meaning and "\n" not in meaning for _, meaning in decoded)


def test_every_explanation_is_one_line() -> None:
    assert all("\n" not in text and len(text) < 100 for text in [*FIELD_HELP.values(), *VMFLAGS.values()])


# -- rows ----------------------------------------------------------------------
MAPPINGS = parse_smaps(smaps_text())


def test_groups_follow_the_kind_order_and_sum_their_paths() -> None:
    a = analyse(MAPPINGS)
    assert [h.kind for h, _ in a.groups] == list(KINDS)
    for header, paths in a.groups:
        assert header.maps == sum(p.maps for p in paths)
        assert header.pss == sum(p.pss for p in paths) and header.uss == sum(p.uss for p in paths)
    assert a.totals["rss"] == sum(row[4] for row in LAYOUT) * KIB  # type: ignore[misc]
    assert a.count == len(LAYOUT)


def test_change_since_opening_and_growth_since_the_last_read() -> None:
    first = analyse(MAPPINGS)
    opened = rss_by_key(first)
    assert all(r.delta == 0 and not r.grew for r in first.raw)
    second = analyse(parse_smaps(smaps_text(grow=100)), opened, opened)
    heap = next(r for r in second.raw if r.label == "[heap]")
    assert heap.delta == 100 * KIB and heap.grew
    assert [r.label for r in second.raw if r.grew] == ["[heap]"]
    header = next(h for h, _ in second.groups if h.kind == "heap")
    assert header.grew and header.delta == 100 * KIB
    third = analyse(parse_smaps(smaps_text(grow=100)), opened, rss_by_key(second))
    heap = next(r for r in third.raw if r.label == "[heap]")
    assert heap.delta == 100 * KIB and not heap.grew  # no growth since the last read


@given(st.sampled_from(SORT_FIELDS), st.booleans(), st.sampled_from(["", "lib", "LIBC", "anon", "zzz", "["]), st.booleans())
def test_view_rows_filter_and_sort(sort: str, reverse: bool, text: str, grouped: bool) -> None:
    a = analyse(MAPPINGS)
    rows = view_rows(a, grouped, sort, reverse, text)
    paths = [r for r in rows if r.level != 0]
    assert all(text.casefold() in r.label.casefold() for r in paths)
    if not grouped:
        assert len(rows) == sum(1 for m in a.raw if text.casefold() in m.label.casefold())
    else:  # each kind's header sums the rows shown under it
        for i, row in enumerate(rows):
            if row.level == 0:
                under = []
                for r in rows[i + 1:]:
                    if r.level == 0:
                        break
                    under.append(r)
                assert under and row.rss == sum(r.rss for r in under)
    if sort in ("pss", "rss", "size") and not grouped:
        values = [getattr(r, sort) for r in rows]
        assert values == sorted(values, reverse=not reverse)


# -- the header parse of the fast path ---------------------------------------------
HEADERS = st.tuples(
    st.sampled_from(["7f00", "7F00", "0x7f00", "7f_00", "7f00"]),
    st.sampled_from([" ", "  ", "\t"]),
    st.sampled_from(["rw-p", "r-xp", "rw-s"]),
    st.sampled_from(["", " ", "   ", "\t"]),
    st.sampled_from(["", "/usr/lib/libc.so.6", "[heap]", "/a b/c d", " /lead", "/tab\tin", "/x (deleted)", "\t/t"]),
)


@settings(max_examples=200)
@given(st.lists(HEADERS, min_size=2, max_size=5))
def test_fast_header_parse_equals_the_general_parser(headers: list[tuple[str, str, str, str, str]]) -> None:
    out = []
    for i, (start, gap, perms, pad, path) in enumerate(headers):
        out.append(f"{start}{i}-7f10{i} {perms}{gap}00000000 08:01 42{pad}{' ' if path else ''}{path}")
        out.append("Rss:                   4 kB")
    raw = ("\n".join(out) + "\n").encode()
    assert smaps.parse_smaps(raw) == smaps.parse_smaps_general(raw)


def test_a_first_paint_builds_the_groups_only_and_the_raw_rows_when_read_are_the_same() -> None:
    # Issue 17: Enter at 65,000 mappings built a row per mapping for a view shown only after g.
    from memtop.tables.mapping_rows import RawRows

    opened = rss_by_key(analyse(MAPPINGS))
    grown = parse_smaps(smaps_text(grow=100))
    eager = analyse(grown, opened, opened)
    lazy = analyse(grown, opened, opened, raw_now=False)
    assert isinstance(lazy.raw, RawRows) and lazy.raw._rows is None  # nothing built for the first paint
    assert lazy.groups == eager.groups and lazy.totals == eager.totals and lazy.count == eager.count
    assert rss_by_key(lazy) == rss_by_key(eager)
    assert lazy.raw._rows is None  # RSS by key (the next read's deltas) came without the rows
    assert list(lazy.raw) == list(eager.raw) and len(lazy.raw) == len(eager.raw) == len(LAYOUT)
    assert [r.label for r in lazy.raw if r.grew] == ["[heap]"]
    for sort in SORT_FIELDS:
        assert view_rows(lazy, False, sort) == view_rows(eager, False, sort)
