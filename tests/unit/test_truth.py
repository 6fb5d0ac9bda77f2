from __future__ import annotations

import json
import struct
import threading

import pytest

from harness.errors import TopologyError
from harness.truth import (
    CacheCounts,
    GStreamCollector,
    SummaryCollector,
    judge,
    parse_cinfo,
    parse_gstream,
    parse_summary,
)

# Trimmed from a real 5.5.3 origin report (note the unrelated stats around the link block).
SUMMARY = (b'<statistics tod="1795566159" ver="v5.5.3" src="vm:21094" tos="1795565902" pgm="xrootd" '
           b'ins="origin" pid="3527" site=""><stats id="info"><host>vm</host><port>21094</port></stats>'
           b'<stats id="link"><num>1</num><maxn>1</maxn><tot>1</tot><in>1444</in><out>50050534</out>'
           b'<ctime>0</ctime></stats><stats id="cache" type="pfc">><prerd><in>0</in><out>9</out></stats>'
           b'</statistics>')


def gstream_packet(*records: dict[str, object]) -> bytes:
    body = "\n".join(json.dumps(r) for r in records).encode() + b"\0\0\0"
    header = struct.pack(">iiq", 1, 2, ord("C") << 56)
    return struct.pack(">cBHI", b"g", 1, 8 + len(header) + len(body), 0) + header + body


CLOSE = {"event": "file_close", "lfn": "/f", "size": 100, "attach_t": 10, "b_hit": 60, "b_miss": 40, "b_bypass": 0,
         "remotes": ["localhost:1094"]}


def test_summary_link_counters_despite_the_stray_bracket() -> None:
    counters = parse_summary(SUMMARY)
    assert counters is not None
    assert (counters.source, counters.tod, counters.bytes_out, counters.bytes_in) == (
        "vm:21094", 1795566159, 50050534, 1444)
    assert parse_summary(b"<statistics tod='1'>") is None


def test_summary_waits_for_a_report_after_the_moment() -> None:
    collector = SummaryCollector()
    collector.on_packet(SUMMARY, 0)
    with pytest.raises(TopologyError, match="no summary monitoring report from port 21094"):
        collector.after(1795566159, 0.05, port=21094)  # same second: not yet after
    later = SUMMARY.replace(b'tod="1795566159"', b'tod="1795566160"')
    threading.Timer(0.05, collector.on_packet, (later, 0)).start()
    assert collector.after(1795566159, 2, port=21094).tod == 1795566160


def test_gstream_file_close_records() -> None:
    packet = gstream_packet(CLOSE, {"event": "file_open", "lfn": "/g"}, {**CLOSE, "lfn": "/h", "remotes": []})
    records = parse_gstream(packet, 5.0)
    assert [(r.lfn, r.b_hit, r.b_miss, r.remotes) for r in records] == [
        ("/f", 60, 40, ("localhost:1094",)), ("/h", 60, 40, ())]
    assert parse_gstream(b"u" + packet[1:], 0) == []


def test_gstream_wait_returns_when_every_file_reported() -> None:
    collector = GStreamCollector()
    collector.on_packet(gstream_packet(CLOSE), 10.0)
    assert [r.lfn for r in collector.wait_for({"/f"}, 9.0, 5)] == ["/f"]
    assert collector.wait_for({"/f", "/missing"}, 9.0, 0.05) != []  # gives up, returns what it has
    assert collector.wait_for({"/f"}, 11.0, 0.05) == []  # attached before the phase began
    late = {**CLOSE, "attach_t": 10}
    collector.on_packet(gstream_packet(late), 20.0)  # arrives during a later phase
    assert collector.wait_for({"/f"}, 15.0, 0.05) == []  # still belongs to the phase that opened it


def test_cinfo_counts_only_new_access_records() -> None:
    text = json.dumps({"file_size": 100, "state_percentage": 100.0, "accesses": [
        {"record": 1, "B_hit": 0, "B_miss": 100, "B_bypass": 0},
        {"record": 2, "B_hit": 100, "B_miss": 0, "B_bypass": 0}]})
    first, second = parse_cinfo(text, "/f"), parse_cinfo(text, "/f", after_record=1)
    assert (first.b_hit, first.b_miss, first.last_record) == (100, 100, 2)
    assert (second.b_hit, second.b_miss) == (100, 0)


def test_verdict_cold_with_in_flight_hits_disagrees_but_origin_decides() -> None:
    counts = CacheCounts(b_hit=94, b_miss=6, b_bypass=0, files=1)
    verdict = judge("miss", 1000, 1000, counts, counts)
    assert verdict.meets_expectation is True and verdict.agree is False
    assert "origin bytes say 0% hits" in verdict.note and "g-stream says 94% hits" in verdict.note


def test_verdict_says_when_the_cache_has_not_reported_every_file() -> None:
    verdict = judge("hit", 1000, 0, CacheCounts(500, 0, 0, files=2, expected_files=4), None)
    assert verdict.agree is None
    assert "g-stream reported 2 of 4 files" in verdict.note and "no data from cinfo" in verdict.note


def test_verdict_warm() -> None:
    hits = CacheCounts(1000, 0, 0, 1)
    assert judge("hit", 1000, 5, hits, hits).agree is True
    assert judge("hit", 1000, 5, hits, hits).meets_expectation is True
    assert judge("hit", 1000, 500, hits, hits).meets_expectation is False
    assert judge("miss", 1000, 970, None, None).meets_expectation is False  # > 2 % short
    assert judge("miss", 1000, None, None, None).meets_expectation is None
