"""The reference readers' command lines and how their output is read back, without running them."""

from __future__ import annotations

from harness.plan import ReadPlan, ReadTarget
from harness.readers.record import Timing
from harness.readers.reference import TIMING_MARK, CurlReader, Piece, _finish, _pieces
from harness.readers.verify import Verifier

TARGET = ReadTarget("https://h:1094", "/a b+c", 1000, adler32=1)


def test_curl_sends_one_clipped_range_per_piece_with_the_runs_ca() -> None:
    plan = ReadPlan("r", ((0, 10), (990, 100), (5000, 5)))
    pieces = _pieces(plan, TARGET.size, 1024)
    assert pieces == [Piece(0, 10, 10), Piece(990, 100, 10), Piece(5000, 5, 0)]
    argv = CurlReader("/run/ca.pem")._transfer(TARGET, [p for p in pieces if p.sent])
    assert argv.count("--next") == 1 and argv.count("--cacert") == 2 and "/run/ca.pem" in argv
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "-r"] == ["0-9", "990-999"]
    assert argv[-1] == "https://h:1094/a%20b%2Bc"


def test_curl_timing_line_gives_open_and_ttfb_and_errors_name_the_url() -> None:
    timing = Timing()
    _finish(["curl"], 0, f"{TIMING_MARK} 0.002 0.004\n", timing, Verifier(TARGET, ReadPlan()), checked=False)
    assert (timing.open_s, timing.ttfb_s, timing.error) == (0.002, 0.004, None)
    failed = Timing()
    _finish(["curl"], 22, f"curl: (22) The requested URL returned error: 404\n{TIMING_MARK} 0 0\n", failed,
            Verifier(TARGET, ReadPlan()), checked=False)
    assert failed.ttfb_s is None
    assert failed.error == "https://h:1094/a%20b%2Bc: curl exited 22: curl: (22) The requested URL returned error: 404"


def test_curl_is_sent_to_the_address_but_verifies_the_name_the_certificate_carries() -> None:
    target = ReadTarget("https://172.18.0.3:1095", "/a b+c", 1000, tls_name="lapp-xcache")
    argv = CurlReader("/run/ca.pem")._transfer(target, None)
    assert argv[argv.index("--resolve") + 1] == "lapp-xcache:1095:172.18.0.3"
    assert argv[-1] == "https://lapp-xcache:1095/a%20b%2Bc" and "-k" not in argv and "--insecure" not in argv
    v6 = CurlReader()._transfer(ReadTarget("https://[fd00::3]:1094", "/f", 5, tls_name="o"), None)
    assert v6[v6.index("--resolve") + 1] == "o:1094:[fd00::3]"
