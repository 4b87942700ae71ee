"""The no-foreign-address check: an LSL round trip under strace sends to, and connects to, loopback only."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lsl_util import counter_csv, lsl_env

pytest.importorskip("mne_lsl")

#: A whole round trip in one process: publish a counter with --lsl's publisher, resolve it, read it back.
CHILD = r"""
import sys, time
from emgfeedback.io.lsl_source import LslSource
from emgfeedback.io.replay import ReplaySource
from emgfeedback.runtime.live import build_acquisition
from emgfeedback.runtime.lsl_out import LslPublisher
acq = build_acquisition(ReplaySource(sys.argv[1], fs=1000.0))
pub = LslPublisher("strace-check", device="counter").attach(acq)
acq.start()
source = LslSource("strace-check", resolve_s=20)
source.open()
got, deadline = 0, time.monotonic() + 30
while got < 500 and time.monotonic() < deadline:
    chunk = source.read(0.1)
    got += 0 if chunk is None else chunk.samples.shape[0]
def until(cond):
    end = time.monotonic() + 10
    while not cond() and time.monotonic() < end:
        source.read(0.05)  # keep reading while the markers go out
acq.start_hold(); until(lambda: acq.snapshot().hold is not None)
acq.stop_hold(); until(lambda: acq.snapshot().hold is None and acq.snapshot().holds_done == 1)
source.close(); acq.stop(); pub.close()
print("received", got)
"""

IPV4 = re.compile(r'sin_addr=inet_addr\("([0-9.]+)"\)')
IPV6 = re.compile(r'inet_pton\(AF_INET6, "([0-9a-fA-F:.]+)"')
FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")


def addresses(trace: str) -> tuple[set[str], set[str]]:
    """(IP addresses, address families) in the sendto/sendmsg/connect calls of an strace log."""
    ips: set[str] = set()
    families: set[str] = set()
    for line in trace.splitlines():
        if not re.search(r"\b(sendto|sendmsg|connect)\(", line):
            continue
        ips.update(IPV4.findall(line))
        ips.update(IPV6.findall(line))
        families.update(FAMILY.findall(line))
    return ips, families


def test_parser_sees_foreign_addresses() -> None:
    trace = (
        '12 connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("8.8.8.8")}, 16) = 0\n'
        '12 sendto(6, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(16571), sin6_flowinfo=htonl(0), '
        'inet_pton(AF_INET6, "ff02::113", &sin6_addr), sin6_scope_id=0}, 28) = 1\n'
    )
    assert addresses(trace) == ({"8.8.8.8", "ff02::113"}, {"AF_INET", "AF_INET6"})


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (scripts/setup.sh --test installs it)")
def test_round_trip_contacts_only_loopback(tmp_path: Path) -> None:
    csv = counter_csv(tmp_path / "counter.csv", 120_000)
    log = tmp_path / "strace.log"
    out = subprocess.run(
        [
            "strace",
            "-f",
            "-qq",
            "-s",
            "0",
            "-e",
            "trace=sendto,sendmsg,connect",
            "-o",
            str(log),
            sys.executable,
            "-c",
            CHILD,
            str(csv),
        ],
        check=False,
        env=lsl_env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "received" in out.stdout and int(out.stdout.split()[-1]) >= 500
    ips, families = addresses(log.read_text())
    assert ips, "the trace shows no network traffic at all: strace did not see the round trip"
    foreign = {ip for ip in ips if not ipaddress.ip_address(ip).is_loopback}
    assert not foreign, f"LSL contacted non-loopback addresses: {sorted(foreign)}"
    assert families <= {"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK", "AF_UNSPEC"}, families
