"""A throwaway grid PKI for one run: CA, host certificates, user certificates, RFC 3820 proxies
and VOMS attribute certificates, laid out the way XRootD 5.5.3 reads them.

Describe what you need with frozen specs and write it with :func:`write_pki`::

    spec = PkiSpec(
        hosts=(HostSpec("origin"), HostSpec("cache")),
        users=(UserSpec("alice", vo="escape", fqans=("/escape/cta",)),
               UserSpec("xcache", vo="escape", fqans=("/escape/xcache",), robot=True)),
    )
    pki = write_pki(spec, Path("/srv/run/pki"))
    pki.proxy("alice", ProxyVariant.VOMS)      # -> Path of a 0600 proxy file
    pki.chown_server_side("xrootd")            # the server runs with -R xrootd

Layout (auth-reference.md section 4.1)::

    certificates/ ca.pem <hash>.0 <hash>.r0     X509_CERT_DIR (hashed CA dir + CRL)
    vomsdir/<vo>/<host>.lsc                     X509_VOMS_DIR
    hosts/<name>/hostcert.pem hostkey.pem       server certificates (SAN localhost + name)
    voms/<vo>/vomscert.pem vomskey.pem          the fake VOMS server's AC signer
    users/<name>/usercert.pem userkey.pem proxies/<variant>.pem
    untrusted/ca.pem voms/...                   a second CA and a second VOMS signer nobody trusts

Why the details matter on 5.5.3: certificate dates >= 2050 are GeneralizedTime, which XrdCrypto
5.5.3 cannot parse (fixed 5.5.4, #1969), so every notAfter stays below 2050 and every notBefore is
backdated a day; XrdCrypto recognises an RFC proxy only by a *critical* ProxyCertInfo extension.
VOMS ACs are made by ``voms-proxy-fake`` (package voms-clients), the only practical AC encoder.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import ipaddress
import os
import pwd
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from harness.errors import EnvironmentMissing, HarnessError, UserError

__all__ = [
    "SYSTEM_CA_BUNDLE",
    "HostCreds",
    "HostSpec",
    "Pki",
    "PkiSpec",
    "ProxyVariant",
    "UserCreds",
    "UserSpec",
    "VomsServerSpec",
    "chown_paths",
    "dn_slash",
    "make_proxy",
    "subject_hash",
    "write_pki",
]

# ProxyCertInfo ::= SEQUENCE { proxyPolicy SEQUENCE { policyLanguage id-ppl-inheritAll } }  (RFC 3820)
PROXY_CERT_INFO_OID = ObjectIdentifier("1.3.6.1.5.5.7.1.14")
PROXY_CERT_INFO_INHERIT_ALL = bytes.fromhex("300c300a06082b06010505071501")
# 5.5.3 rejects GeneralizedTime dates; 2049-12-31 is the last safe UTCTime day.
LATEST_NOT_AFTER = dt.datetime(2049, 12, 31, tzinfo=dt.UTC)
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # Debian libcurl's compiled-in CAfile
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_WS = " \t\n\v\f\r"
_WS_RE = re.compile(f"[{_WS}]+")
_BASE_DN = (("DC", "test"), ("DC", "xcache-harness"))


class ProxyVariant(enum.StrEnum):
    """Which proxy of a user to use; the negative ones exist for the auth matrix."""

    PLAIN = "plain"  # RFC 3820 proxy without VOMS attributes
    VOMS = "voms"  # proxy with the user's FQANs, signed by the trusted VOMS signer
    EXPIRED = "expired"  # proxy whose notAfter has passed (user cert still valid)
    EXPIRED_AC = "expired_ac"  # valid proxy, VOMS AC expired
    UNTRUSTED_CA = "untrusted_ca"  # proxy of a same-DN user cert issued by a CA not in certificates/
    UNTRUSTED_VOMS = "untrusted_voms"  # AC signed by a VOMS cert that no .lsc file names


@dataclass(frozen=True)
class HostSpec:
    """A server certificate; SAN = localhost, 127.0.0.1, ::1, ``name`` and ``aliases``."""

    name: str
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_name("host", self.name)


@dataclass(frozen=True)
class VomsServerSpec:
    """A fake VOMS server: the ``.lsc`` is named after ``host`` (the host part of the AC URI)."""

    vo: str
    host: str = "localhost"
    port: int = 15000

    def __post_init__(self) -> None:
        _check_name("vo", self.vo)


@dataclass(frozen=True)
class UserSpec:
    """A user certificate and its proxies.

    ``fqans`` are groups (``/escape/cta``) or full FQANs (``/escape/cta/Role=production``); they
    are completed to ``/Role=NULL/Capability=NULL`` form and the VO root group is added first, as
    a real VOMS server does. ``robot`` marks a service credential (e.g. the cache's own proxy)
    whose files belong to the server user after :meth:`Pki.chown_server_side`. ``revoked`` lists
    the user certificate in the CA's CRL.
    """

    name: str
    vo: str | None = None
    fqans: tuple[str, ...] = ()
    robot: bool = False
    revoked: bool = False

    def __post_init__(self) -> None:
        _check_name("user", self.name)
        if self.fqans and not self.vo:
            raise UserError(f"user {self.name}: fqans given without a vo")
        for fqan in self.fqans:
            if not (fqan == f"/{self.vo}" or fqan.startswith(f"/{self.vo}/")):
                raise UserError(f"user {self.name}: FQAN {fqan!r} is outside VO {self.vo!r}")

    def full_fqans(self) -> tuple[str, ...]:
        """FQANs as voms-proxy-fake wants them, VO root group first."""
        if not self.vo:
            return ()
        root = f"/{self.vo}"
        fqans = [_complete_fqan(f) for f in self.fqans]
        if not any(f.startswith(root + "/Role=") for f in fqans):
            fqans.insert(0, _complete_fqan(root))
        fqans.sort(key=lambda f: not f.startswith(root + "/Role="))  # stable: root group entries first
        return tuple(dict.fromkeys(fqans))


@dataclass(frozen=True)
class PkiSpec:
    """Everything to generate. VOMS servers default to one per VO used by the users."""

    hosts: tuple[HostSpec, ...] = ()
    users: tuple[UserSpec, ...] = ()
    voms: tuple[VomsServerSpec, ...] = ()
    ca_name: str = "xcache-harness test CA"
    proxy_hours: int = 24
    key_bits: int = 2048
    negatives: bool = True  # also write the EXPIRED/UNTRUSTED_* variants

    def __post_init__(self) -> None:
        for kind, names in (("host", [h.name for h in self.hosts]), ("user", [u.name for u in self.users])):
            if len(set(names)) != len(names):
                raise UserError(f"duplicate {kind} names in PKI spec: {names}")
        if not 1 <= self.proxy_hours <= 24 * 365:
            raise UserError(f"proxy_hours out of range: {self.proxy_hours}")

    def voms_servers(self) -> tuple[VomsServerSpec, ...]:
        known = {v.vo: v for v in self.voms}
        for user in self.users:
            if user.vo and user.vo not in known:
                known[user.vo] = VomsServerSpec(user.vo)
        return tuple(known.values())


@dataclass(frozen=True)
class HostCreds:
    name: str
    cert: Path
    key: Path
    dns_names: tuple[str, ...]


@dataclass(frozen=True)
class UserCreds:
    name: str
    dn: str  # OpenSSL slash form, what XRootD logs and gridmap files use
    cert: Path
    key: Path
    robot: bool
    proxies: tuple[tuple[ProxyVariant, Path], ...]

    def proxy(self, variant: ProxyVariant = ProxyVariant.VOMS) -> Path:
        for have, path in self.proxies:
            if have == variant:
                return path
        raise UserError(f"user {self.name} has no {variant.value} proxy")


@dataclass(frozen=True)
class Pki:
    """Paths of a written PKI tree (see the module docstring for the layout)."""

    root: Path
    ca_cert: Path
    ca_key: Path
    certdir: Path
    crl: Path
    vomsdir: Path
    untrusted_ca_cert: Path
    hosts: tuple[HostCreds, ...]
    users: tuple[UserCreds, ...]
    voms_signers: tuple[tuple[str, Path], ...] = field(default=())  # (vo, signer cert)

    def host(self, name: str) -> HostCreds:
        for host in self.hosts:
            if host.name == name:
                return host
        raise UserError(f"no host certificate named {name!r}")

    def user(self, name: str) -> UserCreds:
        for user in self.users:
            if user.name == name:
                return user
        raise UserError(f"no user named {name!r}")

    def proxy(self, user: str, variant: ProxyVariant = ProxyVariant.VOMS) -> Path:
        return self.user(user).proxy(variant)

    def server_env(self) -> dict[str, str]:
        """Environment entries a server (origin or cache) needs to verify GSI/VOMS clients."""
        return {"X509_CERT_DIR": str(self.certdir), "X509_VOMS_DIR": str(self.vomsdir)}

    def server_side_paths(self) -> tuple[Path, ...]:
        """What a server process reads: CA dir, vomsdir, host credentials, robot credentials."""
        paths = [self.certdir, self.vomsdir, *(h.cert.parent for h in self.hosts)]
        paths += [u.cert.parent for u in self.users if u.robot]
        return tuple(paths)

    def chown_server_side(self, user: str = "xrootd") -> None:
        """Give :meth:`server_side_paths` to ``user`` (needs root unless ``user`` is us)."""
        chown_paths(self.server_side_paths(), user)

    def write_ca_bundle(self, dest: Path, system_bundle: Path | None = SYSTEM_CA_BUNDLE) -> Path:
        """``system_bundle`` + the test CA in one PEM file (0644).

        scitokens-cpp 0.7.3 fetches the issuer's JWKS with libcurl's built-in CA bundle and honours
        neither ``SSL_CERT_FILE`` nor ``CURL_CA_BUNDLE`` (verified on 5.5.3). For the online-issuer
        case, bind-mount this file over the system bundle in a private mount namespace of the server
        (``unshare -m`` + ``mount --bind``) instead of changing the host's trust store.
        """
        parts = [system_bundle.read_bytes()] if system_bundle and system_bundle.is_file() else []
        dest.write_bytes(b"\n".join([*parts, self.ca_cert.read_bytes()]))
        dest.chmod(0o644)
        return dest


# --------------------------------------------------------------------------- public helpers


def write_pki(spec: PkiSpec, root: Path, *, now: dt.datetime | None = None, voms_proxy_fake: str | None = None) -> Pki:
    """Write the tree described by ``spec`` under ``root`` (created, must be empty or absent).

    ``root`` and its parents must be traversable by the server user; directories made here are
    0755, key and proxy files 0600. Raises :class:`EnvironmentMissing` if VOMS users are
    requested and ``voms-proxy-fake`` is not installed.
    """
    now = now or dt.datetime.now(dt.UTC)
    vpf = voms_proxy_fake or shutil.which("voms-proxy-fake")
    if any(u.vo for u in spec.users) and not vpf:
        raise EnvironmentMissing("voms-proxy-fake not found (Debian package voms-clients); needed for VOMS proxies")
    return _Writer(spec, root, now, vpf or "").write()


def make_proxy(
    user_cert: x509.Certificate,
    user_key: rsa.RSAPrivateKey,
    *,
    not_before: dt.datetime,
    not_after: dt.datetime,
    bits: int = 2048,
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """An RFC 3820 impersonation proxy of ``user_cert`` (critical ProxyCertInfo, inheritAll)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    serial = secrets.randbits(31) | 1
    subject = x509.Name([*user_cert.subject, x509.NameAttribute(NameOID.COMMON_NAME, str(serial))])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(user_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(min(not_after, user_cert.not_valid_after_utc))
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.UnrecognizedExtension(PROXY_CERT_INFO_OID, PROXY_CERT_INFO_INHERIT_ALL), critical=True)
    )
    return builder.sign(user_key, hashes.SHA256()), key


def subject_hash(name: x509.Name) -> str:
    """OpenSSL's ``X509_NAME_hash`` (``openssl x509 -hash``), as used for ``<hash>.0`` files.

    SHA-1 of the canonical encoding (each RDN SET re-encoded with UTF8String values that are
    trimmed, whitespace-folded and ASCII-lowercased, outer SEQUENCE dropped), first 4 bytes
    read little-endian.
    """
    canon = b"".join(_der_set(sorted(_canon_atv(a) for a in rdn)) for rdn in name.rdns)
    return f"{int.from_bytes(hashlib.sha1(canon).digest()[:4], 'little'):08x}"


def dn_slash(name: x509.Name) -> str:
    """OpenSSL ``-nameopt compat`` form, ``/DC=test/CN=alice``: what .lsc files and logs use."""
    short = {
        NameOID.DOMAIN_COMPONENT: "DC",
        NameOID.COMMON_NAME: "CN",
        NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
        NameOID.ORGANIZATION_NAME: "O",
        NameOID.COUNTRY_NAME: "C",
        NameOID.LOCALITY_NAME: "L",
        NameOID.STATE_OR_PROVINCE_NAME: "ST",
        NameOID.EMAIL_ADDRESS: "emailAddress",
    }
    parts = []
    for rdn in name.rdns:
        parts.append("+".join(f"{short.get(a.oid, a.oid.dotted_string)}={a.value!s}" for a in rdn))
    return "/" + "/".join(parts)


def chown_paths(paths: Iterable[Path], user: str) -> None:
    """Recursively chown ``paths`` to ``user`` and its primary group; silent, raises on failure."""
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise EnvironmentMissing(f"no such user {user!r} to own server files") from None
    for top in paths:
        for path in [top, *(top.rglob("*") if top.is_dir() else ())]:
            try:
                os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)
            except PermissionError as exc:
                raise EnvironmentMissing(f"cannot chown {path} to {user} (run as root): {exc}") from exc


# --------------------------------------------------------------------------- the writer


class _Writer:
    """One-shot builder behind :func:`write_pki`; keeps the keys in memory while writing."""

    def __init__(self, spec: PkiSpec, root: Path, now: dt.datetime, vpf: str) -> None:
        self.spec, self.root, self.vpf = spec, root, vpf
        self.not_before = now - dt.timedelta(days=1)
        self.not_after = min(now + dt.timedelta(days=365), LATEST_NOT_AFTER)
        self.now = now
        self.revoked_serials: list[int] = []

    def write(self) -> Pki:
        if self.root.exists() and any(self.root.iterdir()):
            raise UserError(f"PKI directory {self.root} is not empty")
        self.certdir = self._dir("certificates")
        ca_cert, ca_key = self._ca(self.spec.ca_name)
        self.ca = (ca_cert, ca_key)
        ca_path = self._pem(self.certdir / "ca.pem", ca_cert)
        ca_key_path = self._key(self._dir("ca") / "cakey.pem", ca_key)
        shutil.copyfile(ca_path, self.certdir / f"{subject_hash(ca_cert.subject)}.0")
        bad_ca = self._ca(self.spec.ca_name + " (untrusted)")
        self.bad_ca = bad_ca
        bad_ca_path = self._pem(self._dir("untrusted") / "ca.pem", bad_ca[0])
        vomsdir = self._dir("vomsdir")
        signers = tuple((v.vo, self._voms_server(v, vomsdir)) for v in self.spec.voms_servers())
        hosts = tuple(self._host(h) for h in self.spec.hosts)
        users = tuple(self._user(u) for u in self.spec.users)
        crl = self._crl(users)
        return Pki(
            root=self.root,
            ca_cert=ca_path,
            ca_key=ca_key_path,
            certdir=self.certdir,
            crl=crl,
            vomsdir=vomsdir,
            untrusted_ca_cert=bad_ca_path,
            hosts=hosts,
            users=users,
            voms_signers=signers,
        )

    # ---- certificates

    def _ca(self, cn: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        key = self._rsa()
        name = _name(cn)
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            self._builder(name, name, key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cert, key

    def _leaf(
        self,
        subject: x509.Name,
        issuer: tuple[x509.Certificate, rsa.RSAPrivateKey],
        sans: list[x509.GeneralName] | None = None,
    ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
        key = self._rsa()
        issuer_cert, issuer_key = issuer
        builder = (
            self._builder(subject, issuer_cert.subject, key)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, True, True, False, False, False, False, False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return builder.sign(issuer_key, hashes.SHA256()), key

    def _builder(self, subject: x509.Name, issuer: x509.Name, key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(self.not_before)
            .not_valid_after(self.not_after)
        )

    def _host(self, spec: HostSpec) -> HostCreds:
        dns = tuple(dict.fromkeys(("localhost", spec.name, *spec.aliases)))
        sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "::1")]
        cert, key = self._leaf(_name(spec.name, "hosts"), self.ca, sans)
        where = self._dir("hosts", spec.name)
        return HostCreds(spec.name, self._pem(where / "hostcert.pem", cert), self._key(where / "hostkey.pem", key), dns)

    def _voms_server(self, spec: VomsServerSpec, vomsdir: Path) -> Path:
        cert, key = self._leaf(_name(f"voms.{spec.vo}", "voms"), self.ca, [x509.DNSName(spec.host)])
        where = self._dir("voms", spec.vo)
        cert_path = self._pem(where / "vomscert.pem", cert)
        self._key(where / "vomskey.pem", key)
        lsc = self._dir("vomsdir", spec.vo) / f"{spec.host}.lsc"
        lsc.write_text(f"{dn_slash(cert.subject)}\n{dn_slash(cert.issuer)}\n")
        lsc.chmod(0o644)
        if self.spec.negatives:  # same issuer, a DN no .lsc lists
            bad, bad_key = self._leaf(_name(f"rogue-voms.{spec.vo}", "voms"), self.ca, [x509.DNSName(spec.host)])
            bad_where = self._dir("untrusted", "voms", spec.vo)
            self._pem(bad_where / "vomscert.pem", bad)
            self._key(bad_where / "vomskey.pem", bad_key)
        return cert_path

    def _user(self, spec: UserSpec) -> UserCreds:
        cert, key = self._leaf(_name(spec.name, "users"), self.ca)
        if spec.revoked:
            self.revoked_serials.append(cert.serial_number)
        where = self._dir("users", spec.name)
        proxies_dir = self._dir("users", spec.name, "proxies")
        cert_path, key_path = self._pem(where / "usercert.pem", cert), self._key(where / "userkey.pem", key)
        hours = dt.timedelta(hours=self.spec.proxy_hours)
        proxies = {ProxyVariant.PLAIN: self._proxy_file(proxies_dir, ProxyVariant.PLAIN, cert, key, self.now + hours)}
        if self.spec.negatives:
            proxies[ProxyVariant.EXPIRED] = self._proxy_file(
                proxies_dir, ProxyVariant.EXPIRED, cert, key, self.now - dt.timedelta(hours=1)
            )
            bad_cert, bad_key = self._leaf(_name(spec.name, "users"), self.bad_ca)
            bad_dir = self._dir("untrusted", "users", spec.name)
            self._pem(bad_dir / "usercert.pem", bad_cert)
            self._key(bad_dir / "userkey.pem", bad_key)
            proxies[ProxyVariant.UNTRUSTED_CA] = self._proxy_file(
                proxies_dir, ProxyVariant.UNTRUSTED_CA, bad_cert, bad_key, self.now + hours
            )
        if spec.vo:
            proxies.update(self._voms_proxies(spec, cert_path, key_path, proxies_dir))
        return UserCreds(spec.name, dn_slash(cert.subject), cert_path, key_path, spec.robot, tuple(proxies.items()))

    def _proxy_file(
        self,
        where: Path,
        variant: ProxyVariant,
        cert: x509.Certificate,
        key: rsa.RSAPrivateKey,
        not_after: dt.datetime,
    ) -> Path:
        proxy, proxy_key = make_proxy(
            cert, key, not_before=self.not_before, not_after=not_after, bits=self.spec.key_bits
        )
        pem = proxy.public_bytes(serialization.Encoding.PEM) + _key_pem(proxy_key)
        pem += cert.public_bytes(serialization.Encoding.PEM)
        return _write_private(where / f"{variant.value}.pem", pem)

    def _voms_proxies(self, spec: UserSpec, cert: Path, key: Path, where: Path) -> dict[ProxyVariant, Path]:
        server = next(v for v in self.spec.voms_servers() if v.vo == spec.vo)
        signer = self.root / "voms" / server.vo
        hours = str(self.spec.proxy_hours)
        out = {
            ProxyVariant.VOMS: self._fake(
                spec, server, cert, key, signer, where / "voms.pem", ["-hours", hours, "-vomslife", hours]
            )
        }
        if self.spec.negatives:
            # AC valid for 1 h starting 2 h ago: expired an hour ago, proxy itself still valid.
            out[ProxyVariant.EXPIRED_AC] = self._fake(
                spec,
                server,
                cert,
                key,
                signer,
                where / "expired_ac.pem",
                ["-hours", hours, "-vomslife", "1", "-pastac", "2:00"],
            )
            bad_signer = self.root / "untrusted" / "voms" / server.vo
            out[ProxyVariant.UNTRUSTED_VOMS] = self._fake(
                spec,
                server,
                cert,
                key,
                bad_signer,
                where / "untrusted_voms.pem",
                ["-hours", hours, "-vomslife", hours],
            )
        return out

    def _fake(
        self,
        spec: UserSpec,
        server: VomsServerSpec,
        cert: Path,
        key: Path,
        signer: Path,
        out: Path,
        extra: list[str],
    ) -> Path:
        cmd = [
            self.vpf,
            "-rfc",
            "-quiet",
            "-bits",
            str(self.spec.key_bits),
            "-certdir",
            str(self.certdir),
            "-cert",
            str(cert),
            "-key",
            str(key),
            "-hostcert",
            str(signer / "vomscert.pem"),
            "-hostkey",
            str(signer / "vomskey.pem"),
            "-voms",
            server.vo,
            "-uri",
            f"{server.host}:{server.port}",
            *extra,
            "-out",
            str(out),
        ]
        for fqan in spec.full_fqans():
            cmd += ["-fqan", fqan]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "UTC", "HOME": str(self.root)}
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, check=False)
        if done.returncode != 0 or not out.is_file():
            raise HarnessError(
                f"voms-proxy-fake failed for {spec.name} ({out.name}), rc={done.returncode}: "
                f"{(done.stderr or done.stdout).strip()[-500:]}"
            )
        out.chmod(0o600)
        return out

    def _crl(self, users: tuple[UserCreds, ...]) -> Path:
        ca_cert, ca_key = self.ca
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(ca_cert.subject)
            .last_update(self.not_before)
            .next_update(self.not_after)
        )
        for serial in self.revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(self.not_before).build()
            )
        crl = builder.sign(ca_key, hashes.SHA256())
        path = self.certdir / f"{subject_hash(ca_cert.subject)}.r0"
        path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
        path.chmod(0o644)
        return path

    # ---- files

    def _rsa(self) -> rsa.RSAPrivateKey:
        return rsa.generate_private_key(public_exponent=65537, key_size=self.spec.key_bits)

    def _dir(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        for p in [path, *path.parents]:
            if p == self.root.parent:
                break
            p.chmod(0o755)  # the server user must traverse; 6.x clients refuse writable CA dirs
        return path

    def _pem(self, path: Path, cert: x509.Certificate) -> Path:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        path.chmod(0o644)
        return path

    def _key(self, path: Path, key: rsa.RSAPrivateKey) -> Path:
        return _write_private(path, _key_pem(key))


# --------------------------------------------------------------------------- small pure helpers


def _check_name(kind: str, name: str) -> None:
    if not _NAME_RE.match(name):
        raise UserError(f"invalid {kind} name {name!r}: use letters, digits, '.', '_', '-'")


def _complete_fqan(fqan: str) -> str:
    if "/Role=" not in fqan:
        fqan += "/Role=NULL"
    if "/Capability=" not in fqan:
        fqan += "/Capability=NULL"
    return fqan


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.DOMAIN_COMPONENT, v) for _, v in _BASE_DN]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    # Traditional "RSA PRIVATE KEY" PEM: read by XrdCryptossl, Globus-era tools and voms-proxy-fake.
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    path.chmod(0o600)  # O_CREAT mode is masked by umask and ignored for existing files
    return path


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _der_set(items: list[bytes]) -> bytes:
    return _der(0x31, b"".join(items))


def _der_oid(oid: ObjectIdentifier) -> bytes:
    arcs = [int(a) for a in oid.dotted_string.split(".")]
    body = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


def _canon_atv(attr: x509.NameAttribute[str | bytes]) -> bytes:
    value = attr.value
    if not isinstance(value, str):
        raise ValueError(f"cannot canonicalise non-string name attribute {attr.oid.dotted_string}")
    folded = _WS_RE.sub(" ", value.strip(_WS))  # OpenSSL folds only ASCII whitespace
    lowered = "".join(c.lower() if c < "\x80" else c for c in folded)
    return _der(0x30, _der_oid(attr.oid) + _der(0x0C, lowered.encode()))
