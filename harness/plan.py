"""What one read operation asks of one file, independent of protocol and reader.

Patterns (``harness.patterns``) turn a file into a ``ReadPlan``; readers (``harness.readers``)
execute a plan against a ``ReadTarget`` and return an ``OpRecord``. Keeping the plan a plain
value lets the same plan run over root://, https://, xrdcp or curl and be compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from harness.content import FileContent

# kXR_readv accepts at most 1024 elements per request (XProtocol.hh: maxRvecsz).
MAX_VECTOR_CHUNKS = 1024

Range = tuple[int, int]  # (offset, length)


@dataclass(frozen=True)
class ReadPlan:
    """The ranges of one read operation, in issue order.

    ``ranges`` empty means the whole file, streamed in the reader's request size.
    ``vector`` sends the ranges as vector reads of at most ``MAX_VECTOR_CHUNKS`` chunks each;
    ``stat`` asks for the file's metadata first (the scan pattern's ``stat`` + header).
    """

    pattern: str = "full"
    ranges: tuple[Range, ...] = ()
    vector: bool = False
    stat: bool = False

    @property
    def whole_file(self) -> bool:
        return not self.ranges

    def bytes_for(self, size: int) -> int:
        """Bytes a correct server returns for this plan on a file of ``size`` bytes."""
        if self.whole_file:
            return size
        return sum(max(0, min(offset + length, size) - offset) for offset, length in self.ranges)


@dataclass(frozen=True)
class ReadTarget:
    """One file to read: where, how big, and how to tell its content is right.

    ``adler32`` checks whole-file reads; ``content`` regenerates any range for partial reads.
    Both are None for files the harness did not stage (an external endpoint's own data):
    such reads are timed but reported as unverified.

    ``base_url`` says where to connect; ``tls_name``, when set, is the name an https server's
    certificate is verified against instead of that host: a container is reached by an address
    (its IP, or a link relay's) that its certificate cannot know in advance, but it names the server.
    """

    base_url: str  # scheme://host:port, no trailing slash
    path: str  # absolute path in the server's namespace; may contain spaces and '+'
    size: int
    adler32: int | None = None
    content: FileContent | None = None
    tls_name: str | None = None

    @property
    def verify_name(self) -> str:
        """The host name the server's certificate must carry."""
        return self.tls_name or (urlsplit(self.base_url).hostname or "")

    @property
    def named_url(self) -> str:
        """``url`` with the host the certificate names (what curl is given with ``--resolve``)."""
        if self.tls_name is None:
            return self.url
        parts = urlsplit(self.url)
        return urlunsplit(parts._replace(netloc=f"{self.tls_name}:{parts.port}" if parts.port else self.tls_name))

    @property
    def url(self) -> str:
        """The file's URL as each protocol's server wants it (checked against XRootD 5.5.3).

        XrdCl sends a root:// path to the server as written and the server does not decode it
        (``%20`` names a file with a literal ``%20``), so the path stays raw there; a '?' would start
        the CGI. XrdHttp decodes percent-escapes and takes '+' literally, so http(s) paths are quoted.
        """
        if self.base_url.startswith("root"):
            return self.raw_url
        return f"{self.base_url}/{quote(self.path.lstrip('/'), safe='/')}"

    @property
    def raw_url(self) -> str:
        """Unencoded URL, for messages and records (what a person would type)."""
        separator = "/" if self.base_url.startswith("root") else ""
        return f"{self.base_url}/{separator}{self.path.lstrip('/')}"
