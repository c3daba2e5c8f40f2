"""Linux readers in one namespace: ``iw`` (iw.py, iw_scan.py) and Wireless Extensions (wext.py)."""

from probes.wifi.iw import outcome_iw_dev, parse_iw_dev, parse_iw_link, parse_iw_station
from probes.wifi.iw_scan import parse_iw_scan
from probes.wifi.wext import parse_iwconfig, parse_proc_net_wireless

__all__ = ["outcome_iw_dev", "parse_iw_dev", "parse_iw_link", "parse_iw_scan", "parse_iw_station",
           "parse_iwconfig", "parse_proc_net_wireless"]
