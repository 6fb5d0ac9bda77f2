"""Pure pieces of the docker backend: site plans, names, labels, passwd, relay argv. No engine."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from harness.backends import BACKENDS, check_backend
from harness.backends.docker import PROBE_PORT, relay_archive, relay_command
from harness.backends.engine import LABEL_HOST, LABEL_PID, docker_name, is_leftover, passwd_ids, process_alive
from harness.backends.sites import plan_sites
from harness.errors import EnvironmentMissing, UserError
from harness.spec import CacheSpec, ClientSpec, LinkSpec, OriginSpec, SiteSpec, TopologySpec


def two_sites(link: bool = True) -> TopologySpec:
    return TopologySpec(
        sites=(SiteSpec(name="near"), SiteSpec(name="far")),
        origins=(OriginSpec(name="origin", site="far"),),
        caches=(CacheSpec(name="xcache", site="near", origin="origin"),),
        clients=(ClientSpec(name="client", site="near"),),
        links=(LinkSpec(a="near", b="far", rtt_ms=30, rate_mbit=100),) if link else (),
    )


def test_one_site_needs_no_relay_and_every_server_has_its_own_port() -> None:
    spec = TopologySpec(origins=(OriginSpec(name="o1"), OriginSpec(name="o2")),
                        caches=(CacheSpec(name="c", origin="o2"),))
    plan = plan_sites(spec)
    assert plan.ports == {"o1": 1094, "o2": 1095, "c": 1096}
    assert plan.networks == {"o1": ("local",), "o2": ("local",), "c": ("local",)}
    assert plan.relays == () and plan.client_route("c") == ("local", None)


def test_remote_origin_is_reached_through_the_link_relay_by_name() -> None:
    plan = plan_sites(two_sites())
    (relay,) = plan.relays
    assert relay.name == "link-near-far" and relay.sites == ("near", "far")
    assert relay.aliases == {"near": ("origin",)}  # the cache's "origin" resolves to the relay
    assert relay.forwards == ((1094, "origin"),)
    assert plan.networks["origin"] == ("far",)  # not attached to the near site: all traffic crosses the link
    assert plan.client_route("origin") == ("near", relay)
    assert plan.client_route("xcache") == ("near", None)


def test_without_a_link_the_origin_joins_the_sites_it_serves() -> None:
    plan = plan_sites(two_sites(link=False))
    assert plan.networks["origin"] == ("far", "near")
    assert plan.client_route("origin") == ("near", None)


def test_relay_command_forwards_to_container_names() -> None:
    (relay,) = plan_sites(two_sites()).relays
    argv = relay_command(relay, "run-1")
    assert argv[:3] == ["python3", "-m", "harness.links.relay"]
    assert argv[argv.index("--rtt-ms") + 1] == "30" and argv[argv.index("--rate-mbit") + 1] == "100"
    assert f"0.0.0.0:{PROBE_PORT}" in argv
    # not the short name: on the near side that name is the relay itself
    assert argv[argv.index("--listen") + 1] == "0.0.0.0:1094=xh-run-1-origin:1094"


def test_relay_archive_holds_only_the_standard_library_relay() -> None:
    with tarfile.open(fileobj=io.BytesIO(relay_archive())) as tar:
        names = set(tar.getnames())
    assert {"harness/__init__.py", "harness/links/__init__.py", "harness/links/relay.py",
            "harness/links/shaping.py"} <= names
    assert all(n.startswith(("harness/__init__.py", "harness/links/")) for n in names)


def test_passwd_ids_of_the_server_user() -> None:
    text = "root:x:0:0:root:/root:/bin/bash\nxrootd:x:100:102::/var/spool/xrootd:/usr/sbin/nologin\n"
    assert passwd_ids(text, "xrootd") == (100, 102)
    with pytest.raises(EnvironmentMissing, match="no user 'xrootd'"):
        passwd_ids("root:x:0:0::/:/bin/sh\n", "xrootd")


def test_leftovers_are_objects_of_dead_harness_processes_on_this_host() -> None:
    def alive(pid: int) -> bool:
        return pid == 7

    assert is_leftover({LABEL_PID: "8", LABEL_HOST: "me"}, "me", alive)
    assert not is_leftover({LABEL_PID: "7", LABEL_HOST: "me"}, "me", alive)
    assert not is_leftover({LABEL_PID: "8", LABEL_HOST: "other"}, "me", alive)  # not ours to judge
    assert is_leftover({}, "me", alive)  # labelled by a run, but no owner: nobody will remove it


def test_names_carry_the_run_id() -> None:
    assert docker_name("20260101-000000-smoke-ab12", "origin") == "xh-20260101-000000-smoke-ab12-origin"


def test_registry_knows_docker_and_checks_the_xrootd_version() -> None:
    assert "docker" in BACKENDS
    check_backend("docker", "5.8.1")
    with pytest.raises(UserError, match=r"unknown XRootD version '6\.0'.*5\.5\.3"):
        check_backend("docker", "6.0")


def test_a_killed_but_unreaped_harness_is_not_alive() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        assert process_alive(proc.pid)
        proc.kill()
        deadline = time.monotonic() + 5
        while Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline, "sleep did not die"
            time.sleep(0.01)
        assert not process_alive(proc.pid)  # a zombie: os.kill(pid, 0) still succeeds
    finally:
        proc.kill()
        proc.wait(5)
    assert not process_alive(proc.pid) and process_alive(os.getpid())
