"""The device probe against what the OS itself reports, and against built sysfs trees."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import psutil
import pytest

from config.os_support import find_row, load_os_support, support_ends
from config.wire import ProbeStatus
from probes import device, device_hw
from probes.base import CommandResult, ProbeContext, ToolMissing

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


# --- against the real OS ---------------------------------------------------------


def test_values_match_what_the_os_reports() -> None:
    m = device.measure(ProbeContext())
    assert m.ram_total_gb == round(psutil.virtual_memory().total / 1e9, 3)
    assert m.cpu_cores_logical == os.cpu_count()
    st = os.statvfs("/")
    free_gb = st.f_bavail * st.f_frsize / 1e9
    assert m.disk_free_gb is not None
    assert abs(m.disk_free_gb - free_gb) <= 0.01 * free_gb
    assert m.disk_total_gb == round(st.f_blocks * st.f_frsize / 1e9, 3)
    if Path("/etc/os-release").exists():
        info = device.parse_os_release(Path("/etc/os-release").read_text())
        assert m.os_version == info.get("VERSION_ID")
    # every None has its reason, every reason its None
    for name, value in m:
        if name in m.missing:
            assert value is None, name


def test_disk_kind_matches_sysfs() -> None:
    part = next((p for p in psutil.disk_partitions() if p.mountpoint == "/"), None)
    if part is None or not part.device.startswith("/dev/"):
        pytest.skip("the root file system is not on a block device here")
    kind, missing = device_hw.read_disk_kind(ProbeContext(), "/")
    disk = device_hw.linux_block_disk(Path("/sys"), os.path.realpath(part.device))
    rotational = Path(f"/sys/block/{disk}/queue/rotational").read_text().strip()
    assert kind == {"0": "ssd", "1": "hdd"}[rotational]
    assert missing == {}


# --- a built sysfs ---------------------------------------------------------------


def _fake_ps(**over: Any) -> SimpleNamespace:
    base: dict[str, Any] = dict(
        cpu_count=lambda logical=True: 8 if logical else 4,
        getloadavg=lambda: (0.5, 0.4, 0.3),
        virtual_memory=lambda: SimpleNamespace(total=8_000_000_000, available=5_000_000_000),
        disk_usage=lambda p: SimpleNamespace(total=256_000_000_000, free=128_000_000_000),
        boot_time=lambda: NOW.timestamp() - 3600,
        disk_partitions=lambda all=False: [SimpleNamespace(device="/dev/nvme0n1p2", mountpoint="/")],
        sensors_battery=lambda: None,
        net_if_stats=lambda: {"enp3s0": SimpleNamespace(isup=True, speed=1000, duplex=2, flags="up")},
        sensors_temperatures=lambda: {"coretemp": [SimpleNamespace(current=41.0),
                                                   SimpleNamespace(current=55.5)]},
    )
    base.update(over)
    return SimpleNamespace(**base)


def _sysfs(root: Path, *, rotational: str = "0", battery: str | None = None) -> None:
    dev = root / "sys/devices/pci0000:00/nvme/nvme0/nvme0n1"
    (dev / "nvme0n1p2").mkdir(parents=True)
    (dev / "nvme0n1p2/partition").write_text("2\n")
    (dev / "queue").mkdir()
    blk = root / "sys/class/block"
    blk.mkdir(parents=True)
    (blk / "nvme0n1").symlink_to(dev)
    (blk / "nvme0n1p2").symlink_to(dev / "nvme0n1p2")
    (root / "sys/block").mkdir()
    (root / "sys/block/nvme0n1").symlink_to(dev)
    (dev / "queue/rotational").write_text(rotational + "\n")
    ps = root / "sys/class/power_supply"
    (ps / "AC").mkdir(parents=True)
    (ps / "AC/uevent").write_text("POWER_SUPPLY_NAME=AC\nPOWER_SUPPLY_TYPE=Mains\nPOWER_SUPPLY_ONLINE=1\n")
    if battery:
        (ps / "BAT0").mkdir()
        (ps / "BAT0/uevent").write_text(battery)
    (root / "proc/net").mkdir(parents=True)
    (root / "proc/net/route").write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "enp3s0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
        "enp3s0\t0001A8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n")
    (root / "proc/cpuinfo").write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i3-10110U CPU @ 2.10GHz\n")
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('NAME="Ubuntu"\nVERSION_ID="22.04"\n')


BAT = ("POWER_SUPPLY_NAME=BAT0\nPOWER_SUPPLY_TYPE=Battery\nPOWER_SUPPLY_CAPACITY=81\n"
       "POWER_SUPPLY_ENERGY_FULL_DESIGN=57000000\nPOWER_SUPPLY_ENERGY_FULL=48450000\n")


def _ctx(root: Path, **ps: Any) -> ProbeContext:
    return ProbeContext(fs_root=root, psutil=_fake_ps(**ps), os_name="linux", clock=lambda: NOW)


def test_laptop_with_ssd_and_worn_battery(tmp_path: Path) -> None:
    _sysfs(tmp_path, battery=BAT)
    out = device.run(_ctx(tmp_path))
    m = out.measurement
    assert out.status is ProbeStatus.ok
    assert (m.disk_kind, m.disk_is_ssd) == ("ssd", True)
    assert (m.battery_present, m.battery_charge_pct, m.battery_health_pct) == (True, 81.0, 85.0)
    assert (m.link_interface, m.link_speed_mbps, m.link_duplex) == ("enp3s0", 1000.0, "full")
    assert m.temperature_c == 55.5
    assert (m.os_name, m.os_version) == ("Ubuntu", "22.04")
    assert (m.os_supported, str(m.os_support_ends)) == (True, "2027-04-30")
    assert m.uptime_s == 3600.0
    assert m.cpu_model == "Intel(R) Core(TM) i3-10110U CPU @ 2.10GHz"
    assert m.missing == {"clock_offset_ms": "no collector to compare clocks with"}


def test_desktop_without_battery_says_so(tmp_path: Path) -> None:
    _sysfs(tmp_path, rotational="1")
    m = device.measure(_ctx(tmp_path))
    assert (m.disk_kind, m.disk_is_ssd) == ("hdd", False)
    assert m.battery_present is False
    assert m.battery_charge_pct is None and m.battery_health_pct is None
    assert m.missing["battery_charge_pct"] == "no battery"


def test_no_sensors_no_link_speed(tmp_path: Path) -> None:
    _sysfs(tmp_path)
    stats = {"enp3s0": SimpleNamespace(isup=True, speed=0, duplex=0, flags="up")}
    m = device.measure(_ctx(tmp_path, net_if_stats=lambda: stats, sensors_temperatures=lambda: {}))
    assert m.link_speed_mbps is None and m.temperature_c is None
    assert "no link speed for enp3s0" in m.missing["link_speed_mbps"]
    assert m.missing["temperature_c"] == "the OS exposes no temperature sensor"


def test_overlay_root_is_no_block_device(tmp_path: Path) -> None:
    _sysfs(tmp_path)
    parts = [SimpleNamespace(device="overlay", mountpoint="/")]
    m = device.measure(_ctx(tmp_path, disk_partitions=lambda all=False: parts))
    assert m.disk_kind is None
    assert "overlay is not a block device" in m.missing["disk_kind"]
    assert device.run(_ctx(tmp_path, disk_partitions=lambda all=False: parts)).status is ProbeStatus.degraded


def test_missing_tool_is_a_reason_not_a_value() -> None:
    def no_powershell(argv: Any, timeout: float) -> CommandResult:
        raise ToolMissing("powershell is not installed")

    ctx = ProbeContext(os_name="windows", run=no_powershell)
    assert device_hw.read_disk_kind(ctx, "C:\\") == (None, {"disk_kind": "powershell is not installed"})


def test_disk_kind_commands_and_parsers() -> None:
    assert device_hw.disk_kind_argv("darwin", "/") == ["diskutil", "info", "/"]
    assert device_hw.disk_kind_argv("linux", "/") is None
    assert "Get-Partition -DriveLetter C" in device_hw.disk_kind_argv("windows", "C:\\")[-1]
    assert device_hw.parse_disk_kind("windows", "SSD\r\n") == "ssd"
    assert device_hw.parse_disk_kind("windows", "Unspecified\r\n") is None
    assert device_hw.parse_disk_kind("darwin", "   Solid State:               No\n") == "hdd"
    assert device_hw.parse_disk_kind("linux", "0\n") == "ssd"


# --- OS support and clock -----------------------------------------------------------


@pytest.mark.parametrize(("os_name", "version", "edition", "ends"), [
    ("Windows", "10.0.19045", "Professional", "2025-10-14"),
    ("Windows", "10.0.22631", "Professional", "2025-11-11"),
    ("Windows", "10.0.22631", "Education", "2026-11-10"),
    ("Debian GNU/Linux", "12", None, "2028-06-30"),
    ("Ubuntu", "24.04", None, "2029-04-30"),
    ("macOS", "13.7.8", None, "2025-08-20"),
    ("macOS", "12.7.6", None, "2024-07-29"),
    ("macOS", "11.7.10", None, "2023-09-11"),
])
def test_support_table(os_name: str, version: str, edition: str | None, ends: str) -> None:
    row = find_row(load_os_support(), os_name, version)
    assert row is not None
    assert support_ends(row, edition).isoformat() == ends


def test_windows_10_is_no_longer_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = ProbeContext(os_name="windows", clock=lambda: NOW)
    monkeypatch.setattr(device, "windows_edition", lambda: "Professional")
    supported, ends, missing = device.os_support(ctx, "Windows", "10.0.19045")
    assert (supported, str(ends), missing) == (False, "2025-10-14", {})


def test_a_macos_without_a_known_end_is_unknown_not_supported() -> None:
    """Sonoma and later: Apple has given no date, so the table has none (config/os_support.toml)."""
    supported, ends, missing = device.os_support(ProbeContext(clock=lambda: NOW), "macOS", "14.7.1")
    assert supported is None and ends is None and "not in the support table" in missing["os_supported"]


def test_unknown_os_is_unknown_not_supported() -> None:
    supported, ends, missing = device.os_support(ProbeContext(clock=lambda: NOW), "Haiku", "R1")
    assert supported is None and ends is None
    assert "Haiku R1 is not in the support table" in missing["os_supported"]


def test_clock_offset_from_date_header() -> None:
    sent = datetime(2026, 11, 29, 6, 10, 0, 100_000, tzinfo=UTC)
    received = datetime(2026, 11, 29, 6, 10, 0, 300_000, tzinfo=UTC)
    # server said 06:10:30 → taken as 06:10:30.5; ours is 06:10:00.2 → +30.3 s
    assert device_hw.clock_offset_ms("Sun, 29 Nov 2026 06:10:30 GMT", sent, received) == 30300.0


def test_clock_offset_through_the_collector() -> None:
    class Resp:
        headers: ClassVar[dict[str, str]] = {"Date": "Sun, 29 Nov 2026 07:59:59 GMT"}

        def close(self) -> None:
            pass

    seen = []

    class Http:
        def get(self, url: str, timeout: float) -> Resp:
            seen.append(url)
            return Resp()

    ctx = ProbeContext(collector_url="http://127.0.0.1:9/", http=Http(), clock=lambda: NOW)
    assert device_hw.read_clock_offset(ctx) == (-500.0, {})
    assert seen == ["http://127.0.0.1:9/healthz"]


# --- Windows and macOS, simulated: injected OS, psutil facade and route ------------------------


def test_the_link_is_the_default_route_interface_not_the_first_one_up() -> None:
    """Windows lists a Hyper-V switch or a VPN adapter first; the default route goes by Ethernet."""
    stats = {"vEthernet (Default Switch)": SimpleNamespace(isup=True, speed=10000, duplex=2, flags=""),
             "Ethernet": SimpleNamespace(isup=True, speed=100, duplex=2, flags="")}
    addrs = {"vEthernet (Default Switch)": [SimpleNamespace(address="172.20.80.1")],
             "Ethernet": [SimpleNamespace(address="fe80::1%12"), SimpleNamespace(address="10.35.12.41")]}
    ctx = ProbeContext(os_name="windows",
                       psutil=_fake_ps(net_if_stats=lambda: stats, net_if_addrs=lambda: addrs))
    values, missing = device_hw.read_link(ctx, route_source=lambda: "10.35.12.41")
    assert values == {"link_interface": "Ethernet", "link_speed_mbps": 100.0, "link_duplex": "full"}
    assert missing == {}
    values, missing = device_hw.read_link(ctx, route_source=lambda: None)  # no default route at all
    assert values["link_interface"] is None and "default route" in missing["link_speed_mbps"]


def test_the_default_route_source_is_a_local_address() -> None:
    from probes.netinfo import default_route_source

    source = default_route_source()  # a UDP connect: nothing leaves the machine
    if source is None:
        pytest.skip("this machine has no default route")
    assert any(a.address.split("%")[0] == source for addrs in psutil.net_if_addrs().values() for a in addrs)


def test_windows_load_waits_for_a_sample_and_removes_the_start_from_zero_bias(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """psutil's emulation: 0.0 on the first call, then every 5 s load = load*f + queue*(1-f),
    f = exp(-5/60), from zero. With a steady queue of 2 the value read must be 2, not 0."""
    import math

    monkeypatch.setattr(device_hw, "_load_started", None)
    now = [100.0]
    f = math.exp(-5 / 60)

    def getloadavg() -> tuple[float, float, float]:
        samples = 0 if device_hw._load_started is None else int((now[0] - device_hw._load_started) // 5)
        one = 2.0 * (1 - f ** samples)
        return (one, one, one)

    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    ps = _fake_ps(getloadavg=getloadavg)
    assert device_hw.windows_load_1m(ps, lambda: now[0], sleep) == pytest.approx(2.0)
    assert slept and 5.0 < slept[0] < 6.0  # waited for psutil's first real sample
    now[0] += 40  # later in the same process: no wait, 9 samples in
    assert device_hw.windows_load_1m(ps, lambda: now[0], sleep) == pytest.approx(2.0)
    assert len(slept) == 1
