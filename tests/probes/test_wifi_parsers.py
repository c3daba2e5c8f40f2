"""Every real Wi-Fi fixture parses to the values read by hand from the file.

The expected values below were written from reading each fixture (see
tests/fixtures/wifi/SOURCES.md), not from the parser's output. Channel numbers
and bands that a file gives only as a frequency were worked out from the
frequency (e.g. 5280 MHz = channel 56).
"""

from __future__ import annotations

import pytest

from config.wire import ProbeStatus
from probes.wifi.detect import detect_tool, parse_output
from tests.conftest import FIXTURES

FIX = FIXTURES / "wifi"

# file -> (tool, status, link values, {bssid-or-index: neighbour values}, neighbour count)
OK, UN = ProbeStatus.ok, ProbeStatus.unavailable
CASES: dict[str, tuple[str, ProbeStatus, dict, int | None]] = {
    # ---- Linux: iw dev / info
    # type AP: the machine's own access points, not a link to one
    "linux/iw-dev/issue-mwlwifi-68-iw-dev-openwrt-ap.txt": ("iw-dev", UN, dict(
        interface="wlan1", mode="ap", ssid="Hotspot", channel=149, frequency_mhz=5745,
        channel_width_mhz=80, band="5GHz", signal_dbm=None, connected=None), 0),
    "linux/iw-dev/issue-opencapwap-9-iw-info-ap.txt": ("iw-dev", UN, dict(
        interface="WTPWLan00", mode="ap", ssid="t1024", channel=4, frequency_mhz=2427,
        channel_width_mhz=20, channel_plan_ok=False), 0),
    # the connected card wins wherever it is listed; the idle one is reported beside it
    "linux/iw-dev/issue-rtw89-23-iw-dev-mld-and-idle-internal-card.txt": ("iw-dev", OK, dict(
        interface="wlx90de80c6f58c", connected=True, mode="station", ssid="BT8_MLO", channel=36,
        frequency_mhz=5180, channel_width_mhz=80, band="5GHz"), 0),
    "linux/iw-dev/issue-wifiphisher-219-iw-dev-idle-card-listed-first.txt": ("iw-dev", OK, dict(
        interface="wlan0", connected=True, channel=4, frequency_mhz=2427, channel_width_mhz=20,
        ssid=None), 0),
    "linux/iw-dev/issue-usbwifi-545-mt7925-iw-dev-pasted-fragment.txt": ("iw-dev", OK, dict(
        interface="wlan0", connected=True, ssid="GreatCircle", channel=149, frequency_mhz=5745,
        channel_width_mhz=80), 0),
    "linux/iw-dev/issue-wlanpi-61-iw-wlan0-info-unassociated.txt": ("iw-dev", UN, dict(
        interface="wlan0", connected=False, signal_dbm=None), 0),
    "linux/iw-dev/wifiheatmapper-iw-dev-wlp1s0-info.txt": ("iw-dev", OK, dict(
        interface="wlp1s0", ssid="HBTL", connected=True, channel=None), 0),
    # ---- iw link
    "linux/iw-link/issue-cinnamon-9301-iw-link-vht80.txt": ("iw-link", OK, dict(
        interface="wlp0s20f3", bssid="64:d1:54:68:93:ae", ssid="HOME5", frequency_mhz=5280,
        channel=56, band="5GHz", signal_dbm=-44, rx_rate_mbps=702.0, tx_rate_mbps=866.7,
        channel_width_mhz=80, phy="ac", noise_dbm=None, snr_db=None), 0),
    "linux/iw-link/issue-mdlayher-wifi-27-rtl8723bs-iw-link.txt": ("iw-link", OK, dict(
        interface="wlan0", bssid=None, ssid="<SSID>", frequency_mhz=2427, channel=4,
        signal_dbm=-45, tx_rate_mbps=72.2, rx_rate_mbps=None, channel_plan_ok=False), 0),
    "linux/iw-link/issue-rtl8812au-42-iw-link-rtl8812au-driver.txt": ("iw-link", OK, dict(
        interface="wlx00", bssid=None, ssid="xxx", frequency_mhz=5300, channel=60,
        signal_dbm=-45, tx_rate_mbps=216.7), 0),
    # Wi-Fi 7 multi-link: an 80 MHz rate cannot be the 2.4 GHz link, so link 1 is in use
    "linux/iw-link/issue-rtw89-23-rtl8912au-iw-link-mlo-two-links.txt": ("iw-link", OK, dict(
        interface="wlx90de80c6f58c", ssid="BT8_MLO", mld_address="06:28:aa:6e:40:58",
        bssid="ce:28:aa:4e:40:59", frequency_mhz=5180, channel=36, band="5GHz",
        channel_width_mhz=80, signal_dbm=-44, tx_rate_mbps=1296.7, phy="be"), 0),
    # two links a 20 MHz rate fits on both: none is chosen, nothing mixed
    "linux/iw-link/issue-mt7927dkms-8-mt6639-iw-link-mlo-6g-2g.txt": ("iw-link", OK, dict(
        interface="wlp9s0", ssid="asus_MLO", mld_address="60:cf:84:fd:2d:aa", bssid=None,
        frequency_mhz=None, channel=None, channel_width_mhz=None, signal_dbm=-16,
        tx_rate_mbps=344.1, rx_rate_mbps=206.5, phy="be"), 0),
    "linux/iw-link/issue-rtl8812au-42-iw-link-vht.txt": ("iw-link", OK, dict(
        interface="wlan0", frequency_mhz=5300, signal_dbm=-60, tx_rate_mbps=173.3, phy="ac",
        channel_width_mhz=20), 0),
    "linux/iw-link/issue-wifirxpower-1-iw-link-ht40.txt": ("iw-link", OK, dict(
        bssid="68:7f:74:3b:b0:01", ssid="tesla-5g-bcm", frequency_mhz=5745, channel=149,
        signal_dbm=-31, tx_rate_mbps=300.0, channel_width_mhz=40, phy="n"), 0),
    "linux/iw-link/wifiheatmapper-iw-dev-wlp1s0-link.txt": ("iw-link", OK, dict(
        interface="wlp1s0", bssid="fe:dc:ba:98:76:02", ssid="SSID-1", frequency_mhz=2412,
        channel=1, band="2.4GHz", signal_dbm=-51, tx_rate_mbps=26.0, channel_plan_ok=True), 0),
    # ---- iw scan
    "linux/iw-scan/jc-centos77-iw-scan0.txt": ("iw-scan", OK, dict(
        interface="wlan0", connected=None, signal_dbm=None), 2),
    "linux/iw-scan/jc-centos77-iw-scan1.txt": ("iw-scan", OK, dict(
        connected=True, bssid="ac:22:05:e6:ff:24", ssid="UPCCDB29F5", frequency_mhz=5180,
        channel=36, signal_dbm=-30, channel_width_mhz=80, phy="ac",
        security="WPA/WPA2-Personal", security_level=3), 26),
    "linux/iw-scan/jc-iw-scan2-wifi6.txt": ("iw-scan", OK, dict(interface="wlan0-1"), 1),
    # ---- iw station
    "linux/iw-station-dump/commitmsg-linux-ath12k-5e73276c-wcn7850-eht-station-dump.txt": (
        "iw-station", OK, dict(interface="wlo1", bssid="00:03:7f:12:03:03", signal_dbm=-95,
                               tx_rate_mbps=688.2, rx_rate_mbps=619.5, phy="be",
                               channel_width_mhz=40), 0),
    "linux/iw-station-dump/issue-mdlayher-wifi-27-rtl8723bs-station-get.txt": (
        "iw-station", OK, dict(interface="wlan0", bssid=None, signal_dbm=-45, tx_rate_mbps=72.2), 0),
    "linux/iw-station-dump/issue-mt76-17-openwrt-ap-station-get.txt": (
        # the driver prints "signal: 75 [72, 75] dBm": not a number to keep
        "iw-station", OK, dict(bssid="10:6f:3f:0e:31:8f", signal_dbm=None, tx_rate_mbps=54.0,
                               rx_rate_mbps=54.0), 0),
    # two stations on one interface: an AP's clients, not a link (a client has one peer, its AP)
    "linux/iw-station-dump/issue-mwlwifi-68-openwrt-ap-station-dump-cut.txt": (
        "iw-station", UN, dict(interface="wlan0", mode="ap", connected=None, bssid=None,
                               tx_rate_mbps=None), 0),
    # ---- iwconfig
    "linux/iwconfig/issue-cisen-blog-65-iwconfig-rpi-unassociated.txt": ("iwconfig", UN, dict(
        interface="wlan0", connected=False, signal_dbm=None), 0),
    "linux/iwconfig/issue-tof-ips-12-iwconfig-associated.txt": ("iwconfig", OK, dict(
        interface="wlan0", ssid="monet2.4G", bssid="00:26:66:c4:80:fc", frequency_mhz=2432,
        channel=5, tx_rate_mbps=135.0, signal_dbm=-59, signal_quality_pct=72.9,
        channel_plan_ok=False), 0),
    "linux/iwconfig/issue-wave300-3-iwconfig-openwrt-unassociated.txt": ("iwconfig", UN, dict(
        interface="wlan0", connected=False), 0),
    "linux/iwconfig/issue-carambola-9-iwconfig-ap-masked.txt": ("iwconfig", OK, dict(
        interface="wlan0", ssid="some-ssid", bssid=None, frequency_mhz=2432, channel=5,
        tx_rate_mbps=6.5, signal_dbm=-42, signal_quality_pct=97.1), 0),
    "linux/iwconfig/issue-carambola-9-iwconfig-off-any-flattened.txt": ("iwconfig", UN, dict(
        interface="wlan0", connected=False), 0),
    "linux/iwconfig/issue-laptop-mode-tools-83-iwconfig-channel13.txt": ("iwconfig", OK, dict(
        interface="wlan0", ssid="FTW", bssid="c4:6e:1f:d0:67:26", frequency_mhz=2472, channel=13,
        tx_rate_mbps=150.0, signal_dbm=-36, signal_quality_pct=100, channel_plan_ok=False), 0),
    "linux/iwconfig/issue-wifiphisher-219-iwconfig-two-cards.txt": ("iwconfig", OK, dict(
        interface="wlan0", ssid="95339065", bssid="8c:04:ff:b8:59:bb", frequency_mhz=2427, channel=4,
        tx_rate_mbps=12.0, signal_dbm=-76, signal_quality_pct=48.6), 0),
    "linux/iwconfig/jc-generic-iwconfig.txt": ("iwconfig", OK, dict(
        interface="wlp5s0", ssid="BLABLABLA", bssid="e6:63:da:16:50:bf", frequency_mhz=5180,
        channel=36, tx_rate_mbps=6.0, signal_dbm=-52, signal_quality_pct=82.9), 0),
    # ---- nmcli
    "linux/nmcli/issue-8812au-55-nmcli-dev-wifi-emoji-ssid.txt": ("nmcli", OK, dict(
        connected=True, ssid="LAG", bssid="a0:39:ee:a2:fa:1f", channel=112, band="5GHz",
        signal_quality_pct=100, security="WPA2-Personal", signal_dbm=None), 12),
    "linux/nmcli/issue-rofi-wifi-menu-1-nmcli-fields-ssid-bars-security.txt": ("nmcli", OK, dict(
        connected=None), 3),
    "linux/nmcli/issue-ushiboy-nmcli-22-ubuntu-dev-wifi-no-header.txt": ("nmcli", OK, dict(
        connected=True, ssid="Doge", bssid="76:ac:b9:27:8a:44", channel=10,
        signal_quality_pct=89, signal_dbm=None, security="WPA2-Personal"), 4),
    "linux/nmcli/nodewifi-nmcli-terse-wifi-list.txt": ("nmcli", OK, dict(
        connected=True, ssid="Linksys01777_5GHz", bssid="31:23:03:1a:9f:1d", channel=36,
        frequency_mhz=5180, signal_quality_pct=75, signal_dbm=None), 14),
    "linux/nmcli/wifiheatmapper-nmcli-t-dev-wifi-list.txt": ("nmcli", OK, dict(
        connected=True, ssid="SSID-3", bssid="fe:dc:ba:09:87:03", channel=1,
        signal_quality_pct=87, security="open", security_level=0), 11),
    "linux/nmcli/issue-i3statusrust-1439-nmcli-dev-wifi-cut.txt": ("nmcli", OK, dict(
        connected=True, ssid="madhur", bssid="b0:6e:bf:e2:47:40", channel=11, band="2.4GHz",
        signal_quality_pct=92, security="WPA2-Personal", signal_dbm=None), 10),
    # the poster's "<SSID-REDACTED>" is wider than the SSID column: those rows are read by shape
    "linux/nmcli/issue-pistomp-258-nmcli-fields-redacted-ssid.txt": ("nmcli", OK, dict(
        connected=None, ssid=None), 4),
    # nmcli 0.9: quoted SSIDs, German header (FREQUENZ), no IN-USE column
    "linux/nmcli/nodewifiscanner-nmcli01-de-old-format.txt": ("nmcli", OK, dict(connected=None), 19),
    # ---- /proc/net/wireless (noise -256 = not reported)
    # a positive level is the driver's own relative scale (no IW_QUAL_DBM), not dBm; link 100 = a link
    "linux/proc-net-wireless/issue-rpicheck-16-xbian-relative-level.txt": (
        "proc-net-wireless", OK, dict(interface="wlan0", connected=True, signal_dbm=None,
                                      noise_dbm=None), 0),
    "linux/proc-net-wireless/issue-kismet-488-ubuntu2204-intel7265.txt": (
        "proc-net-wireless", OK, dict(interface="wlp2s0", signal_dbm=-47, noise_dbm=None,
                                      snr_db=None), 0),
    "linux/proc-net-wireless/issue-netdata-6333-wlp5s0.txt": (
        "proc-net-wireless", OK, dict(interface="wlp5s0", signal_dbm=-42, noise_dbm=None), 0),
    # ---- macOS airport -I
    "macos/airport-I/issue-jc-46-airport-I.txt": ("airport", OK, dict(
        signal_dbm=-73, noise_dbm=-92, snr_db=19, tx_rate_mbps=176, ssid="Tenda_034030_5G",
        bssid="58:d9:d5:03:40:35", channel=36, channel_width_mhz=80, band="5GHz",
        security="WPA2-Personal"), 0),
    "macos/airport-I/issue-systeminformation-895-sonoma-14.4-airport-deprecated.txt": (
        "airport", UN, dict(signal_dbm=None), 0),
    "macos/airport-I/jc-osx-10.14.6-airport-I.txt": ("airport", OK, dict(
        signal_dbm=-66, noise_dbm=-90, snr_db=24, tx_rate_mbps=195, ssid="SnazzleDazzle",
        bssid="3c:37:86:15:ad:f9", channel=48, channel_width_mhz=80), 0),
    "macos/airport-I/issue-wifiname-6-airport-I-init-unassociated.txt": ("airport", UN, dict(
        connected=False, ssid=None, bssid=None), 0),
    "macos/airport-I/nodewifi-airport-getinfo.txt": ("airport", OK, dict(
        signal_dbm=-50, noise_dbm=-92, tx_rate_mbps=650, ssid="Linksys01227_5GHz",
        bssid="31:23:03:1a:9f:1d", channel=36), 0),
    # ---- macOS airport -s
    "macos/airport-s/jc-osx-10.14.6-airport-s.txt": ("airport-scan", OK, dict(connected=None), 14),
    "macos/airport-s/nodewifi-airport-scan-01.txt": ("airport-scan", OK, dict(), 4),
    "macos/airport-s/nodewifi-airport-scan-monterey.txt": ("airport-scan", OK, dict(), 4),
    "macos/airport-s/nodewifi-airport-scan-space.txt": ("airport-scan", OK, dict(), 3),
    "macos/airport-s/nodewifi-airport-scan-shifted.txt": ("airport-scan", OK, dict(), 4),
    "macos/airport-s/schollz-wifiscan-airport02.txt": ("airport-scan", OK, dict(), 4),
    "macos/airport-s/accesspoints-osx-test-masked.txt": ("airport-scan", OK, dict(bssid=None), 5),
    "macos/airport-s/accesspoints-osx-cjk-test.txt": ("airport-scan", OK, dict(bssid=None), 5),
    "macos/airport-s/nodewifiscanner-airport01.txt": ("airport-scan", OK, dict(), 36),
    # ---- macOS system_profiler -json
    "macos/system_profiler/wifiheatmapper-mac-sp_10.15.7.json": ("system_profiler", OK, dict(
        interface="en1", ssid="SSID-6", bssid="fe:dc:ba:09:87:65", channel=6, signal_dbm=-55,
        noise_dbm=-98, snr_db=43, tx_rate_mbps=145, phy="n", security="open"), 17),
    "macos/system_profiler/wifiheatmapper-mac-sp_12.7.2-AP.json": ("system_profiler", OK, dict(
        interface="en0", ssid="SSID-4", bssid=None, channel=149, signal_dbm=-68, noise_dbm=-93,
        snr_db=25, tx_rate_mbps=324, phy="ax", security="WPA2-Personal"), 3),
    "macos/system_profiler/wifiheatmapper-mac-sp_12.7.2-no-AP.json": ("system_profiler", UN, dict(
        interface="en0", connected=False, signal_dbm=None), 0),
    "macos/system_profiler/wifiheatmapper-mac-sp_15.5-no-iPhone.json": ("system_profiler", UN, dict(
        connected=False), 2),
    "macos/system_profiler/wifiheatmapper-mac-sp_15.5-on-iPhone.json": ("system_profiler", OK, dict(
        ssid="SSID-1", channel=149, channel_width_mhz=80, signal_dbm=-55, noise_dbm=-95,
        tx_rate_mbps=864), 1),
    "macos/system_profiler/wifiheatmapper-mac-sp_15.5-wifi-disabled.json": ("system_profiler", UN,
                                                                              dict(connected=False), 0),
    "macos/system_profiler/wifiheatmapper-mac-sp_15.5-wpa2-en.json": ("system_profiler", OK, dict(
        interface="en0", ssid="SSID-7", channel=6, channel_width_mhz=20, signal_dbm=-58,
        noise_dbm=-97, snr_db=39, tx_rate_mbps=144, phy="n", security="WPA2-Personal"), 6),
    "macos/system_profiler/issue-itlwm-713-sp-text-not-associated-flattened.txt": (
        "system_profiler", UN, dict(interface="en1", connected=False), 2),
    "macos/system_profiler/wifiheatmapper-mac-sp_15.5.json": ("system_profiler", OK, dict(
        ssid="SSID-2", channel=6, band="2.4GHz", channel_width_mhz=20, signal_dbm=-40,
        noise_dbm=-97, snr_db=57, tx_rate_mbps=144, phy="n", security="open"), 5),
    # ---- macOS wdutil
    "macos/wdutil/wifiheatmapper-mac-wdutil-nosignal-en.txt": ("wdutil", UN, dict(
        interface="en0", connected=False, signal_dbm=None), 0),
    "macos/wdutil/wifiheatmapper-mac-wdutil-output.txt": ("wdutil", OK, dict(
        interface="en0", ssid=None, bssid=None, signal_dbm=-63, noise_dbm=-97, snr_db=34,
        channel_utilisation_pct=18, tx_rate_mbps=162.0, phy="ax", channel=11, band="2.4GHz",
        channel_width_mhz=20), 0),
    "macos/wdutil/wifiheatmapper-macOS12-wdutil-2.4GHz-en.txt": ("wdutil", OK, dict(
        interface="en1", ssid="SomeSSID-2.4", signal_dbm=-55, noise_dbm=-98, tx_rate_mbps=145.0,
        phy="n", channel=1, channel_width_mhz=20), 0),
    "macos/wdutil/wifiheatmapper-macOS12-wdutil-5GHz-en.txt": ("wdutil", OK, dict(
        ssid="SomeSSID-5", signal_dbm=-61, noise_dbm=-96, snr_db=35, tx_rate_mbps=324.0,
        security="WPA2-Personal", phy="ac", channel=144, channel_width_mhz=40, band="5GHz"), 0),
    "macos/wdutil/wifiheatmapper-macOS15-wdutil-5GHz-en.txt": ("wdutil", OK, dict(
        interface="en0", ssid=None, bssid=None, signal_dbm=-79, noise_dbm=-91, snr_db=12,
        channel_utilisation_pct=16, tx_rate_mbps=103.0, phy="ax", channel=44, band="5GHz",
        channel_width_mhz=40, security="WPA2-Personal"), 0),
    "macos/wdutil/wifiheatmapper-macOS15-wdutil-2.4GHz-en.txt": ("wdutil", OK, dict(
        signal_dbm=-63, noise_dbm=-97, channel_utilisation_pct=10, tx_rate_mbps=48.0, channel=1), 0),
    # ---- Windows: show interfaces (EN, FR, DE; location denied)
    "windows/netsh-interfaces/wifiheatmapper-interfaces-de.txt": ("netsh-interfaces", OK, dict(
        interface="WLAN", ssid="SSID-1", bssid="fe:dc:ba:09:87:02", band="5GHz", channel=116,
        phy="ac", security="WPA2-Enterprise", security_level=4, rx_rate_mbps=300,
        tx_rate_mbps=300, signal_quality_pct=43, signal_dbm=None), 0),
    "windows/netsh-interfaces/wifiheatmapper-interfaces-en.txt": ("netsh-interfaces", OK, dict(
        interface="Wi-Fi", ssid="SSID-1", bssid="fe:dc:ba:09:87:02", channel=44, band="5GHz",
        phy="ax", security="WPA2-Personal", rx_rate_mbps=103, tx_rate_mbps=103,
        signal_quality_pct=42, signal_dbm=None), 0),
    "windows/netsh-interfaces/wifiheatmapper-interfaces-fr.txt": ("netsh-interfaces", OK, dict(
        interface="Wi-Fi", ssid="SSID-1", bssid="fe:dc:ba:09:87:02", band="2.4GHz", channel=11,
        phy="ax", security="open", security_level=0, rx_rate_mbps=103, tx_rate_mbps=206,
        signal_quality_pct=80, signal_dbm=None), 0),
    "windows/netsh-interfaces/wifiheatmapper-interfaces-es.txt": ("netsh-interfaces", OK, dict(
        interface="Wi-Fi", ssid="SSID-1", bssid="fe:dc:ba:09:87:02", band="2.4GHz", channel=11,
        phy="ax", security="open", rx_rate_mbps=69, tx_rate_mbps=206, signal_quality_pct=81), 0),
    "windows/netsh-interfaces/wifiheatmapper-interfaces-it.txt": ("netsh-interfaces", OK, dict(
        interface="Wi-Fi", ssid="SSID-1", bssid="fe:dc:ba:09:87:02", channel=4, phy="n",
        security="WPA2-Personal", rx_rate_mbps=130, tx_rate_mbps=130, signal_quality_pct=85), 0),
    "windows/netsh-interfaces/wifiheatmapper-interfaces-location-denied-en.txt": (
        "netsh-interfaces", UN, dict(signal_dbm=None, signal_quality_pct=None), 0),
    "windows/netsh-interfaces/issue-resourcemonitor-16-interfaces-zh-cn.txt": (
        "netsh-interfaces", OK, dict(
            interface="WLAN", ssid="BUU", bssid="06:69:6c:89:82:43", channel=157, band="5GHz", phy="ac",
            security="open", security_level=0, rx_rate_mbps=173.3, tx_rate_mbps=173.3,
            signal_quality_pct=92, signal_dbm=None), 0),
    "windows/netsh-interfaces/issue-nodewifi-184-interfaces-en-win11-masked.txt": (
        "netsh-interfaces", OK, dict(
            interface="WiFi", ssid="my-wifi-ssid-here", bssid=None, band="2.4GHz", channel=7, phy="n",
            security="WPA2-Personal", rx_rate_mbps=72, tx_rate_mbps=72, signal_quality_pct=86,
            channel_plan_ok=False), 0),
    # ---- Windows: show networks mode=bssid (EN x3, FR, DE, ES; location denied)
    "windows/netsh-networks/schollz-wifiscan-netsh_sp.txt": ("netsh-networks", OK, dict(), 12),
    "windows/netsh-networks/wifiheatmapper-networks-blank-ssid-en.txt": ("netsh-networks", OK,
                                                                          dict(), 15),
    "windows/netsh-networks/wifiheatmapper-networks-de.txt": ("netsh-networks", OK, dict(), 9),
    "windows/netsh-networks/wifiheatmapper-networks-en.txt": ("netsh-networks", OK, dict(), 8),
    "windows/netsh-networks/wifiheatmapper-networks-es.txt": ("netsh-networks", OK, dict(), 7),
    "windows/netsh-networks/wifiheatmapper-networks-fr.txt": ("netsh-networks", OK, dict(), 8),
    "windows/netsh-networks/wifiheatmapper-networks-it.txt": ("netsh-networks", OK, dict(), 11),
    "windows/netsh-networks/wifiheatmapper-networks-location-denied-en.txt": (
        "netsh-networks", UN, dict(), 0),
    "windows/netsh-networks/accesspoints-windows-test-nl.txt": ("netsh-networks", OK, dict(), 37),
    "windows/netsh-networks/nodewifiscanner-netsh-de-complex01.txt": ("netsh-networks", OK, dict(), 86),
    "windows/netsh-networks/nodewifiscanner-netsh-sp-cp850-mojibake.txt": ("netsh-networks", OK, dict(), 8),
    "windows/netsh-networks/issue-particlecli-118-networks-de-bssidd.txt": ("netsh-networks", OK, dict(), 1),
    # without BSSID lines (no mode=bssid, or the driver gives none): one entry per SSID
    "windows/netsh-networks/issue-nodewifiscanner-5-networks-en-no-bssid.txt": ("netsh-networks", OK,
                                                                                  dict(), 1),
    "windows/netsh-networks/issue-lswifi-62-networks-ru-fragment.txt": ("netsh-networks", OK, dict(), 1),
    # Japanese: one SSID block, no header lines; colons not aligned
    "windows/netsh-networks/twwifiscan-netsh-networks-ja-fragment.txt": ("netsh-networks", OK, dict(), 1),
    # ---- pcaps
    "pcap/tcpdump-ieee802.11_exthdr.pcap": ("pcap", OK, dict(connected=None), 1),
    "pcap/tcpdump-ieee802.11_meshid.pcap": ("pcap", OK, dict(), 1),
    "pcap/tcpdump-ieee802.11_rx-stbc.pcap": ("pcap", UN, dict(), 0),
}

# A few neighbours per scan, read by hand: (file, bssid) -> values.
NEIGHBOURS: dict[tuple[str, str | None], dict] = {
    ("linux/iw-scan/jc-centos77-iw-scan0.txt", "00:19:a9:cd:c6:80"): dict(
        ssid="Cisco1240", channel=1, signal_dbm=-45, security="open"),
    ("linux/iw-scan/jc-centos77-iw-scan0.txt", "d0:d0:fd:69:ca:70"): dict(
        ssid="Cisco1250", channel=11, frequency_mhz=2462, signal_dbm=-70),
    ("linux/iw-scan/jc-centos77-iw-scan1.txt", "1c:b0:44:75:42:a5"): dict(
        ssid="o2-WLAN38", channel=10, frequency_mhz=2457, signal_dbm=-70,
        security="WPA2-Personal", phy="n", channel_width_mhz=20),
    ("linux/iw-scan/jc-centos77-iw-scan1.txt", "ae:22:15:db:4d:5b"): dict(
        ssid="Vodafone Hotspot", security="open", signal_dbm=-57),
    ("linux/iw-scan/jc-centos77-iw-scan1.txt", "54:fa:3e:87:1f:93"): dict(
        ssid="moin moin", channel=13, signal_dbm=-72),
    ("linux/iw-scan/jc-iw-scan2-wifi6.txt", None): dict(
        ssid="Troubleshooting", frequency_mhz=2412, channel=1, signal_dbm=-54,
        security="WPA2-Personal", phy="ax", channel_width_mhz=20),
    ("linux/nmcli/issue-ushiboy-nmcli-22-ubuntu-dev-wifi-no-header.txt", "8e:49:62:e1:0d:c5"): dict(
        ssid="", channel=10, signal_quality_pct=69, signal_dbm=None),
    ("linux/nmcli/nodewifi-nmcli-terse-wifi-list.txt", "31:23:03:18:9f:1c"): dict(
        ssid="Linksys01777-invité", channel=11, signal_quality_pct=100, security="open"),
    ("linux/nmcli/nodewifi-nmcli-terse-wifi-list.txt", "00:21:6a:75:60:22"): dict(
        ssid="EBOX_6070", security="WPA/WPA2-Personal"),
    ("linux/nmcli/wifiheatmapper-nmcli-t-dev-wifi-list.txt", "fe:dc:ba:09:87:02"): dict(
        ssid="SSID-2-\\foo:bar", channel=6, signal_quality_pct=100, security="WPA2-Personal"),
    ("linux/nmcli/wifiheatmapper-nmcli-t-dev-wifi-list.txt", "fe:dc:ba:09:87:0b"): dict(
        ssid="SSID-11", channel=11, signal_quality_pct=15, security="WPA2/WPA3-Personal"),
    ("macos/airport-s/jc-osx-10.14.6-airport-s.txt", "8e:e3:0e:c1:74:df"): dict(
        ssid="XFINITY", signal_dbm=-86, channel=36, security="WPA2-Enterprise"),
    ("macos/airport-s/jc-osx-10.14.6-airport-s.txt", "42:37:86:15:fd:b3"): dict(
        ssid="SnazzleDazzle", signal_dbm=-62, channel=3, channel_width_mhz=40),
    ("macos/airport-s/jc-osx-10.14.6-airport-s.txt", "00:68:eb:2b:b7:3b"): dict(
        ssid="DIRECT-4A-HP OfficeJet 3830", signal_dbm=-91, channel=6),
    ("macos/airport-s/nodewifi-airport-scan-space.txt", "1e:27:e2:fa:c6:32"): dict(
        ssid="Terminus 1", signal_dbm=-26, channel=4),
    ("macos/airport-s/schollz-wifiscan-airport02.txt", "7c:b7:33:ae:3b:06"): dict(
        ssid="", signal_dbm=-80, channel=64, security="WPA/WPA2-Personal"),
    ("macos/airport-s/schollz-wifiscan-airport02.txt", "7c:b7:33:ae:3b:04"): dict(
        ssid="Visitor Raupo", signal_dbm=-66, channel=9, channel_width_mhz=40),
    ("macos/system_profiler/wifiheatmapper-mac-sp_10.15.7.json", None): dict(
        ssid="SSID-1", channel=4, signal_dbm=-57, noise_dbm=None, security="WPA2-Personal"),
    ("windows/netsh-networks/wifiheatmapper-networks-en.txt", "fe:dc:ba:09:87:01"): dict(
        ssid="SSID-1", signal_quality_pct=31, phy="ax", band="2.4GHz", channel=1,
        channel_utilisation_pct=42, stations=4, security="open", signal_dbm=None),
    ("windows/netsh-networks/wifiheatmapper-networks-en.txt", "fe:dc:ba:09:87:08"): dict(
        ssid="SSID-3", signal_quality_pct=81, channel=4, security="WPA2-Personal",
        channel_utilisation_pct=None),
    ("windows/netsh-networks/wifiheatmapper-networks-fr.txt", "fe:dc:ba:09:87:04"): dict(
        ssid="SSID-2", signal_quality_pct=31, phy="n", band="2.4GHz", channel=1,
        channel_utilisation_pct=78, security="open"),
    ("windows/netsh-networks/wifiheatmapper-networks-fr.txt", "fe:dc:ba:09:87:02"): dict(
        ssid="SSID-1", signal_quality_pct=33, band="5GHz", channel=52),
    ("windows/netsh-networks/wifiheatmapper-networks-de.txt", "fe:dc:ba:09:87:05"): dict(
        ssid="SSID-3", signal_quality_pct=24, band="2.4GHz", channel=11,
        channel_utilisation_pct=78, stations=0, security="WPA2-Personal"),
    ("windows/netsh-networks/wifiheatmapper-networks-de.txt", "fe:dc:ba:09:87:03"): dict(
        ssid="SSID-2", signal_quality_pct=87, channel=44, security="open"),
    ("windows/netsh-networks/wifiheatmapper-networks-es.txt", "fe:dc:ba:09:87:06"): dict(
        ssid="SSID-3", signal_quality_pct=90, channel=6, stations=10, channel_utilisation_pct=20),
    ("windows/netsh-networks/wifiheatmapper-networks-es.txt", "fe:dc:ba:09:87:04"): dict(
        ssid="SSID-2", signal_quality_pct=82, band="2.4GHz", channel=4, security="WPA2-Personal"),
    ("windows/netsh-networks/schollz-wifiscan-netsh_sp.txt", "f4:cf:e2:67:58:e1"): dict(
        ssid="eduroam", security="WPA2-Enterprise", channel=1, channel_utilisation_pct=90),
    ("windows/netsh-networks/schollz-wifiscan-netsh_sp.txt", "b6:b0:24:e3:e5:6b"): dict(
        ssid="", channel=44, band="5GHz", signal_quality_pct=100),
    ("windows/netsh-networks/wifiheatmapper-networks-blank-ssid-en.txt", "fe:dc:ba:09:87:01"): dict(
        ssid="", signal_quality_pct=14, channel=11),
    ("linux/nmcli/issue-8812au-55-nmcli-dev-wifi-emoji-ssid.txt", "52:c7:bf:75:81:b0"): dict(
        ssid="🦁 #Milei2023 🦁", channel=6, signal_quality_pct=100, security="WPA2-Personal"),
    ("linux/nmcli/issue-8812au-55-nmcli-dev-wifi-emoji-ssid.txt", "58:2f:f7:8d:03:8c"): dict(
        ssid="Fibertel WiFi950 2.4GHz", channel=1, signal_quality_pct=90, security="WPA/WPA2-Personal"),
    ("linux/nmcli/issue-8812au-55-nmcli-dev-wifi-emoji-ssid.txt", "46:ad:b1:2a:06:11"): dict(
        ssid="TeleCentro Wifi", channel=2, signal_quality_pct=80, security="open"),
    ("macos/airport-s/nodewifi-airport-scan-shifted.txt", "12:23:03:18:9f:1c"): dict(
        ssid="Linksys02787-invité", signal_dbm=-33, channel=11, security="open"),
    ("macos/airport-s/nodewifi-airport-scan-shifted.txt", "18:ff:7b:43:b5:27"): dict(
        ssid="NERMNET", signal_dbm=-53, channel=1, channel_width_mhz=40),
    ("macos/system_profiler/issue-itlwm-713-sp-text-not-associated-flattened.txt", "28:e3:4e:47:75:84"): dict(
        ssid="204", channel=11, channel_width_mhz=40, signal_dbm=-77, noise_dbm=None,
        security="WPA/WPA2-Personal", phy="n"),
    ("macos/system_profiler/issue-itlwm-713-sp-text-not-associated-flattened.txt", "28:e3:4e:47:75:88"): dict(
        ssid="204-5G", channel=36, band="5GHz", signal_dbm=-80),
    ("windows/netsh-networks/wifiheatmapper-networks-it.txt", "fe:dc:ba:09:87:04"): dict(
        ssid="SSID-4", signal_quality_pct=46, phy="ax", band="5GHz", channel=149, security="open",
        channel_utilisation_pct=0, stations=0),
    ("windows/netsh-networks/wifiheatmapper-networks-it.txt", "fe:dc:ba:09:87:0a"): dict(
        ssid="SSID-6", signal_quality_pct=29, channel=1, channel_utilisation_pct=48),
    ("windows/netsh-networks/wifiheatmapper-networks-it.txt", "fe:dc:ba:09:87:02"): dict(
        ssid="", signal_quality_pct=20, channel=11, security="WPA2-Personal"),
    ("linux/nmcli/issue-i3statusrust-1439-nmcli-dev-wifi-cut.txt", "80:ce:62:0f:49:6c"): dict(
        ssid="DIRECT-6B-HP DeskJet 3830 series", channel=11, signal_quality_pct=100,
        security="WPA2-Personal"),
    ("linux/nmcli/issue-i3statusrust-1439-nmcli-dev-wifi-cut.txt", "6c:eb:b6:86:90:e4"): dict(
        ssid="suk1", channel=8, signal_quality_pct=97, security="WPA/WPA2-Personal"),
    ("linux/nmcli/issue-i3statusrust-1439-nmcli-dev-wifi-cut.txt", "0c:80:63:ed:86:eb"): dict(
        ssid="AJ Office", channel=3, signal_quality_pct=84, security="WPA2-Personal"),
    ("linux/nmcli/issue-pistomp-258-nmcli-fields-redacted-ssid.txt", "28:74:f5:d0:5b:ea"): dict(
        ssid="<SSID-REDACTED>", channel=11, frequency_mhz=2462, signal_quality_pct=99,
        security="WPA2/WPA3-Personal"),
    ("linux/nmcli/issue-pistomp-258-nmcli-fields-redacted-ssid.txt", "2a:74:f5:c0:5b:ee"): dict(
        ssid="", channel=112, frequency_mhz=5560, band="5GHz", signal_quality_pct=65,
        security="WPA2-Personal"),
    ("linux/nmcli/issue-pistomp-258-nmcli-fields-redacted-ssid.txt", "fc:b2:d6:bf:31:88"): dict(
        ssid="<SSID-REDACTED>", channel=112, signal_quality_pct=19),
    ("linux/nmcli/nodewifiscanner-nmcli01-de-old-format.txt", "00:35:1a:90:56:06"): dict(
        ssid="PDANet1", frequency_mhz=2412, channel=1, signal_quality_pct=100, security=None),
    ("linux/nmcli/nodewifiscanner-nmcli01-de-old-format.txt", "00:f2:8b:8f:58:75"): dict(
        ssid="ExoNet1", frequency_mhz=2462, channel=11, signal_quality_pct=72),
    ("macos/airport-s/accesspoints-osx-test-masked.txt", None): dict(
        ssid="X000X000X00", bssid=None, signal_dbm=-83, channel=6, security="WPA/WPA2-Personal"),
    ("macos/airport-s/nodewifiscanner-airport01.txt", "10:bd:18:ab:4d:8f"): dict(
        ssid="TEST Training", signal_dbm=-71, channel=6, security="WPA-Personal"),
    ("macos/airport-s/nodewifiscanner-airport01.txt", "00:35:1a:90:56:03"): dict(
        ssid="OurTest", signal_dbm=-70, channel=112, band="5GHz", security="WPA2-Personal"),
    ("windows/netsh-networks/accesspoints-windows-test-nl.txt", "00:25:45:35:06:cd"): dict(
        ssid="iConnect", signal_quality_pct=63, phy="n", channel=40, band="5GHz",
        security="WPA2-Enterprise", stations=None),
    ("windows/netsh-networks/accesspoints-windows-test-nl.txt", "30:37:a6:c3:7e:82"): dict(
        ssid="iConnect", signal_quality_pct=38, channel=1, band="2.4GHz", stations=None),
    ("windows/netsh-networks/accesspoints-windows-test-nl.txt", "30:37:a6:c3:09:ff"): dict(
        ssid="R@06DO74VK71KM72JG64TW68!", signal_quality_pct=26, channel=40),
    ("windows/netsh-networks/nodewifiscanner-netsh-de-complex01.txt", "00:f2:8b:8c:a6:88"): dict(
        ssid="", signal_quality_pct=23, channel=1, phy="n", security="WPA2-Personal", stations=None),
    ("windows/netsh-networks/nodewifiscanner-netsh-de-complex01.txt", "00:35:1a:90:56:05"): dict(
        ssid="", signal_quality_pct=71, phy="a", channel=60, band="5GHz"),
    ("windows/netsh-networks/nodewifiscanner-netsh-de-complex01.txt", "10:bd:18:ab:4d:8f"): dict(
        ssid="Network-1", signal_quality_pct=38, phy="g", channel=6, security="WPA-Personal"),
    ("windows/netsh-networks/nodewifiscanner-netsh-sp-cp850-mojibake.txt", "98:fc:11:b6:88:9e"): dict(
        ssid="CARAMANZANAS_BAJA", signal_quality_pct=28, phy="g", channel=9, security="WPA-Personal"),
    ("windows/netsh-networks/nodewifiscanner-netsh-sp-cp850-mojibake.txt", "00:14:7c:b0:83:a9"): dict(
        ssid="KABAWL", signal_quality_pct=85, phy="g", channel=9, security="WPA2-Personal"),
    ("windows/netsh-networks/nodewifiscanner-netsh-sp-cp850-mojibake.txt", "70:72:cf:af:51:e0"): dict(
        ssid="BOOWIFI", signal_quality_pct=0, channel=1, security="WPA2-Personal"),
    ("windows/netsh-networks/issue-particlecli-118-networks-de-bssidd.txt", "6c:0b:84:1b:22:92"): dict(
        ssid="Photon-U8BS", security="open", signal_quality_pct=59, phy="n", channel=11),
    ("windows/netsh-networks/issue-nodewifiscanner-5-networks-en-no-bssid.txt", None): dict(
        ssid="myAP", bssid=None, security="WPA2-Personal", signal_quality_pct=None, channel=None),
    ("windows/netsh-networks/issue-lswifi-62-networks-ru-fragment.txt", None): dict(
        ssid="", bssid=None, security=None),
    ("windows/netsh-networks/twwifiscan-netsh-networks-ja-fragment.txt", "c0:25:a2:c0:31:55"): dict(
        ssid="aterm-82aef0-g", signal_quality_pct=48, phy="n", channel=11, band="2.4GHz",
        security="WPA2-Personal", stations=None),
    ("pcap/tcpdump-ieee802.11_exthdr.pcap", "90:a4:de:c0:46:0a"): dict(
        ssid="omus", channel=1, frequency_mhz=2412, signal_dbm=None, noise_dbm=-86, security="open"),
    ("pcap/tcpdump-ieee802.11_meshid.pcap", "18:31:bf:57:da:1c"): dict(
        ssid="", channel=149, frequency_mhz=5745, signal_dbm=-34, security="WPA3-Personal"),
}


def _read(rel: str):
    path = FIX / rel
    return parse_output(path.read_bytes(), path=path)


def test_every_fixture_file_has_a_case() -> None:
    on_disk = {str(p.relative_to(FIX)) for p in FIX.rglob("*") if p.is_file() and p.name != "SOURCES.md"}
    assert on_disk == set(CASES)


@pytest.mark.parametrize("rel", sorted(CASES))
def test_fixture_parses_to_hand_read_values(rel: str) -> None:
    tool, status, expected, n_neighbours = CASES[rel]
    got_tool, outcome = _read(rel)
    assert got_tool == tool
    assert outcome.status is status, outcome.reason
    m = outcome.measurement
    assert m is not None
    for field, value in expected.items():
        assert getattr(m, field) == value, field
    assert len(m.neighbours) == n_neighbours
    if status is UN:
        assert outcome.reason
        assert m.signal_dbm is None and m.signal_quality_pct is None


@pytest.mark.parametrize(("rel", "bssid"), sorted(NEIGHBOURS, key=str))
def test_neighbour_values(rel: str, bssid: str | None) -> None:
    _, outcome = _read(rel)
    nets = outcome.measurement.neighbours  # type: ignore[union-attr]
    net = nets[0] if bssid is None else next(n for n in nets if n.bssid == bssid)
    for field, value in NEIGHBOURS[(rel, bssid)].items():
        assert getattr(net, field) == value, field


@pytest.mark.parametrize("rel", sorted(CASES))
def test_tool_recognised_from_content(rel: str) -> None:
    assert detect_tool((FIX / rel).read_bytes()) == CASES[rel][0]


def test_unknown_content_is_an_error_not_a_crash() -> None:
    tool, outcome = parse_output(b"hello, this is not a Wi-Fi tool\n")
    assert tool is None
    assert outcome.status is ProbeStatus.error
    assert "unrecognised" in (outcome.reason or "")


@pytest.mark.parametrize("rel", [
    "linux/iw-link/issue-cinnamon-9301-iw-link-vht80.txt",
    "windows/netsh-interfaces/wifiheatmapper-interfaces-fr.txt",
    "macos/wdutil/wifiheatmapper-macOS12-wdutil-5GHz-en.txt",
    "macos/system_profiler/wifiheatmapper-mac-sp_15.5.json",
    "macos/airport-s/jc-osx-10.14.6-airport-s.txt",
])
def test_truncated_output_is_an_error_or_unavailable(rel: str) -> None:
    data = (FIX / rel).read_bytes()
    tool = CASES[rel][0]
    for cut in (len(data) // 3, len(data) // 2, 40):
        _, outcome = parse_output(data[:cut], tool=tool)
        assert outcome.status in (ProbeStatus.error, ProbeStatus.unavailable, ProbeStatus.ok)
        if outcome.status is ProbeStatus.error:
            assert outcome.reason


def test_truncated_iw_link_says_so() -> None:
    data = (FIX / "linux/iw-link/issue-cinnamon-9301-iw-link-vht80.txt").read_bytes()[:60]
    _, outcome = parse_output(data, tool="iw-link")
    assert outcome.status is ProbeStatus.error
    assert "truncated" in (outcome.reason or "")


def test_airport_scan_cjk_ssids_padded_by_bytes() -> None:
    """airport pads the SSID column by bytes: a CJK name (3 bytes, 2 columns a character) sits left."""
    _, outcome = _read("macos/airport-s/accesspoints-osx-cjk-test.txt")
    nets = outcome.measurement.neighbours  # type: ignore[union-attr]
    assert [(n.ssid, n.signal_dbm, n.channel, n.channel_width_mhz, n.security) for n in nets] == [
        ("P880", -87, 1, None, "WPA2-Personal"),
        ("HuaB5", -83, 40, None, "WPA2-Personal"),
        ("小米共享WiFi_B496", -76, 4, None, "WPA2-Personal"),
        ("不要亂改網路名稱", -71, 6, 40, "WPA2-Personal"),
        ("HuaB5", -70, 10, None, "WPA2-Personal"),
    ]
