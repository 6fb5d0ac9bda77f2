"""Truth about cache hits: origin bytes (summary monitoring), g-stream records, cinfo files."""

from harness.truth.cinfo import CinfoAccess, parse_cinfo, read_cinfo
from harness.truth.gstream import FileClose, GStreamCollector, parse_gstream
from harness.truth.summary import LinkCounters, SummaryCollector, parse_summary
from harness.truth.udp import UdpListener
from harness.truth.verdict import CacheCounts, Verdict, judge

__all__ = [
    "CacheCounts", "CinfoAccess", "FileClose", "GStreamCollector", "LinkCounters", "SummaryCollector",
    "UdpListener", "Verdict", "judge", "parse_cinfo", "parse_gstream", "parse_summary", "read_cinfo",
]
