"""Every real EDID fixture decodes to the values read by hand, kind included; broken ones are flagged.

The table below was written from Debian's ``edid-decode`` (0.1~git20220315) output
for each ``.bin`` and, for linuxhw files, the edid-decode text stored next to it —
never from Socle's parser. ``size`` None is edid-decode's "Image size is variable"
(or undefined); the refresh is edid-decode's, rounded to 0.01 Hz. The kind is what
the device is (tests/fixtures/displays/SOURCES.md names each one), judged from its
model name and maker. ``linuxhw/`` and ``glpi/`` are the project's developer set
(../shared); ``linuxhw-more/`` and ``glpi-more/`` were collected for these tests
as the generality set: other devices of the same kinds and makers.
"""

from __future__ import annotations

import json
import math

import pytest

from probes.displays.edid import EdidError, hex_bytes, parse_edid
from probes.displays.kind import classify
from tests.conftest import FIXTURES

EDID = FIXTURES / "displays" / "edid"
FACTS = FIXTURES / "displays" / "facts.json"

# file: (PNP id, product code, 0xFC name, size cm, (preferred w, h, Hz), 0xFE strings, kind)
CASES: dict[str, tuple] = {
    "glpi-more/EV2785.bin":
        ('ENC', 0x2911, 'EV2785', (60, 34), (3840, 2160, 60.0), [], 'monitor'),
    "glpi-more/acer-h6517abd.bin":
        ('ACR', 0x2311, 'Acer H6517ABD', None, (1920, 1080, 60.0), [], 'projector'),
    "glpi-more/acer-p1203.bin":
        ('ACR', 0x1701, 'ACER P1203', None, (1024, 768, 60.0), [], 'projector'),
    "glpi-more/acer-p1206p.bin":
        ('ACR', 0x1228, 'ACER P1206P', None, (1024, 768, 60.0), [], 'projector'),
    "glpi-more/acer-p5260i.bin":
        ('ACR', 0x5401, 'ACER P5260i', None, (1024, 768, 60.0), [], 'projector'),
    "glpi-more/acer-x125h.bin":
        ('ACR', 0x2309, 'Acer X125H', None, (1024, 768, 60.0), [], 'projector'),
    "glpi-more/acer-x128h.bin":
        ('ACR', 0x2608, 'Acer X128H', None, (1024, 768, 60.0), [], 'projector'),
    "glpi-more/acer-xga-pj.bin":
        ('ACR', 0x2708, 'Acer XGA PJ', None, (1024, 768, 60.0), [], 'projector'),
    "glpi-more/benq-bl2420-tf.bin":
        ('BNQ', 0x8027, 'BenQ LCD', (53, 30), (1920, 1080, 60.0), [], 'monitor'),
    "glpi-more/crt.sony-gdm420.bin":
        ('SNY', 0x0490, 'CPD-G420', (36, 27), (1280, 1024, 85.02), [], 'monitor'),
    "glpi-more/lcd.HP-Pavilion-ZV6000.bin":
        ('QDS', 0x0014, None, (33, 21), (1280, 800, 59.91), ['JMN4A1P047325', 'QD15TL022'], 'internal_panel'),
    "glpi-more/lcd.dell-U2413.bin":
        ('DEL', 0xF046, 'DELL U2413', (52, 32), (1920, 1200, 59.95), [], 'monitor'),
    "glpi-more/lcd.dell-inspiron-6400.bin":
        ('LPL', 0x0000, None, (33, 21), (1680, 1050, 60.11), [], 'internal_panel'),
    "glpi-more/lcd.hp-nx-7000.bin":
        ('LGP', 0x0000, None, (33, 21), (1680, 1050, 60.11), [], 'internal_panel'),
    "glpi-more/lcd.lenovo-w500.bin":
        ('LEN', 0x4055, None, (33, 21), (1920, 1200, 60.0), ['LTN154U2-L05'], 'internal_panel'),
    "glpi-more/lcd.lg.tv.22MT44DP-PZ.bin":
        ('GSM', 0x59C6, '2D FHD LG TV', (51, 29), (1920, 1080, 60.0), [], 'tv'),
    "glpi-more/lcd.philips-288p6-hdmi.bin":
        ('PHL', 0x08D7, 'Philips 288P6', (62, 34), (3840, 2160, 30.0), [], 'monitor'),
    "glpi/acer-p1283.bin":
        ('ACR', 0x1716, 'Acer P1283', None, (1024, 768, 60.0), [], 'projector'),
    "glpi/iiyama-PL2779A.bin":
        ('IVM', 0x6615, 'PL2779Q', (60, 34), (2560, 1440, 59.95), [], 'monitor'),
    "glpi/lcd.internal.bin":
        ('TOS', 0x5091, 'Internal LCD', (29, 17), (1366, 768, 60.17), [], 'internal_panel'),
    "glpi/lcd.tv.VQ32-1T.bin":
        ('FUS', 0x065B, 'VQ32-1T', (70, 39), (1360, 768, 60.02), [], 'tv'),
    "linuxhw-more/@LT357F-9DB25B89C695.bin":
        ('@LT', 0x357F, 'HDMI Splitter', (160, 90), (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw-more/ABS07DF-695CF322D020.bin":
        ('ABS', 0x07DF, 'HDMI Matrix', (160, 90), (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw-more/ACR03E3-3620D797E098.bin":
        ('ACR', 0x03E3, 'K242HL', (53, 30), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw-more/ACR1504-B7F63D1401F3.bin":
        ('ACR', 0x1504, 'X1340WH', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw-more/ACR2709-EF7EC5426D50.bin":
        ('ACR', 0x2709, 'Acer WXGA PJ', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw-more/AUOF49A-4F23081971D6.bin":
        ('AUO', 0xF49A, None, (34, 22), (1920, 1200, 60.01), [], 'internal_panel'),
    "linuxhw-more/AVTA001-4BDC7806B38F.bin":
        ('AVT', 0xA001, 'AVERMEDIA_HD', (60, 33), (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw-more/BNQ03F2-B65A12D210A8.bin":
        ('BNQ', 0x03F2, 'BenQ RP790', (174, 98), (1920, 1080, 60.0), [], 'interactive_display'),
    "linuxhw-more/BNQ2802-5913EAC9006B.bin":
        ('BNQ', 0x2802, 'BenQ PJ', None, (800, 600, 60.32), ['BENQ'], 'projector'),
    "linuxhw-more/BNQ7001-9CC1600EC6D8.bin":
        ('BNQ', 0x7001, 'MP720', None, (1024, 768, 60.0), ['BENQ'], 'projector'),
    "linuxhw-more/BNQ78E7-F440DCE03857.bin":
        ('BNQ', 0x78E7, 'BenQ GW2480', (53, 30), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw-more/BNQD801-2C0B01ED038D.bin":
        ('BNQ', 0xD801, 'SP840', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw-more/BOE0C97-BFDAE5BCEC85.bin":
        ('BOE', 0x0C97, None, (34, 22), (2560, 1600, 120.0), ['NV160QDM-N40'], 'internal_panel'),
    "linuxhw-more/CAS8049-A9D35C807FB0.bin":
        ('CAS', 0x8049, 'CASIO-PJ', None, (1024, 768, 60.0), [''], 'projector'),
    "linuxhw-more/CEI0000-C90FCB5FF9D9.bin":
        ('CEI', 0x0000, 'Crestron', (80, 45), (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw-more/CMN1401-4C808EC27629.bin":
        ('CMN', 0x1401, None, (31, 17), (1920, 1080, 60.0), [], 'internal_panel'),
    "linuxhw-more/DEL603B-DD147C6C394E.bin":
        ('DEL', 0x603B, 'DELL M210X', None, (1024, 768, 60.0), [], 'projector'),
    "linuxhw-more/DELA107-D87A37B2C569.bin":
        ('DEL', 0xA107, 'Dell U4919DW', (120, 34), (3840, 1080, 59.97), [], 'monitor'),
    "linuxhw-more/DPC81F2-E3E1F04BDD71.bin":
        ('DPC', 0x81F2, 'Qumi Q38', (115, 65), (1920, 1080, 60.0), [], 'projector'),
    "linuxhw-more/DTB0030-5FCE1E3E1BA7.bin":
        ('DTB', 0x0030, 'DTEN Board', (121, 68), (1920, 1080, 60.0), [], 'interactive_display'),
    "linuxhw-more/GSM0002-65FF7C96328A.bin":
        ('GSM', 0x0002, 'LG TV SSCR2', (160, 90), (3840, 2160, 30.0), [], 'tv'),
    "linuxhw-more/GSM3720-4AD921192514.bin":
        ('GSM', 0x3720, 'LG PROJECTOR', (128, 80), (1280, 800, 59.81), [], 'projector'),
    "linuxhw-more/HEC0030-D4A113486478.bin":
        ('HEC', 0x0030, 'HISENSE', (115, 65), (3840, 2160, 60.0), [], 'tv'),
    "linuxhw-more/HHT0030-431FD5294944.bin":
        ('HHT', 0x0030, 'ActviPanel V5', (115, 65), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw-more/HSD03E9-1101FCD76528.bin":
        ('HSD', 0x03E9, 'HSD101PFW2', (22, 13), (1024, 600, 60.02), [''], 'internal_panel'),
    "linuxhw-more/HTC670B-A4A5F66819B3.bin":
        ('HTC', 0x670B, 'PROJECTOR', None, (1280, 800, 60.0), [], 'projector'),
    "linuxhw-more/IFP3588-749C6B845F1D.bin":
        ('IFP', 0x3588, 'IFP Display', (120, 68), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw-more/IFSFF30-A865C0246B3B.bin":
        ('IFS', 0xFF30, 'InFocus 2126D', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw-more/IVO0641-07254E76B767.bin":
        ('IVO', 0x0641, None, (35, 22), (1920, 1200, 60.0), ['InfoVision', 'R160NW41 R2'], 'internal_panel'),
    "linuxhw-more/LGD068B-F685408EDBF5.bin":
        ('LGD', 0x068B, None, (31, 17), (1920, 1080, 60.02), ['K2JN7'], 'internal_panel'),
    "linuxhw-more/MEIA296-C7CF7D1CE505.bin":
        ('MEI', 0xA296, 'Panasonic-TV', None, (1366, 768, 59.96), [], 'tv'),
    "linuxhw-more/MEL3213-F79CA7BD907F.bin":
        ('MEL', 0x3213, 'EX321', None, (1024, 768, 60.0), [], 'projector'),
    "linuxhw-more/NEC68D4-BB1640B91067.bin":
        ('NEC', 0x68D4, 'EA244WMi', (52, 32), (1920, 1200, 59.95), [], 'monitor'),
    "linuxhw-more/NEC797D-32D9D8E45066.bin":
        ('NEC', 0x797D, 'VT90Series', None, (1024, 768, 85.0), [], 'projector'),
    "linuxhw-more/NEC7A74-005D7A6A2788.bin":
        ('NEC', 0x7A74, 'NP-V311X', None, (1024, 768, 60.0), [], 'projector'),
    "linuxhw-more/ONK1260-768D05AC37CD.bin":
        ('ONK', 0x1260, 'AV Receiver', (160, 90), (3840, 2160, 60.0), [], 'unknown'),
    "linuxhw-more/OTM7A04-47F9C51F7B24.bin":
        ('OTM', 0x7A04, 'Optoma 1080P', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw-more/PHL0000-7A67DD9836CB.bin":
        ('PHL', 0x0000, 'Philips FTV', None, (1920, 1080, 60.0), [], 'tv'),
    "linuxhw-more/PRW4200-49A115123082.bin":
        ('PRW', 0x4200, 'AP7_Titanium', (1, 1), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw-more/RIC8210-C80301A899F5.bin":
        ('RIC', 0x8210, 'RPJ-SERIES', None, (1024, 768, 60.0), [], 'projector'),
    "linuxhw-more/SAM0F99-A38C99405F4A.bin":
        ('SAM', 0x0F99, 'C49RG9x', (119, 34), (3840, 1080, 59.97), [], 'monitor'),
    "linuxhw-more/SAM5448-CF3E420774E1.bin":
        ('SAM', 0x5448, 'SAMSUNG', None, (1920, 1080, 60.0), [], 'tv'),
    "linuxhw-more/SBI0047-109CAEE89A34.bin":
        ('SBI', 0x0047, 'SMART U100w', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw-more/SBI00BB-5A497B603112.bin":
        ('SBI', 0x00BB, 'SBID-MX075-V3', (166, 93), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw-more/SDC416B-48D2F7BFB778.bin":
        ('SDC', 0x416B, None, (34, 22), (3840, 2400, 60.0), ['ATNA60YV05-0'], 'internal_panel'),
    "linuxhw-more/SECA70B-4E5C60EAC85A.bin":
        ('SEC', 0xA70B, 'EPSON PJ', None, (1920, 1200, 59.95), [], 'projector'),
    "linuxhw-more/SHP14B3-D3D9B66F9457.bin":
        ('SHP', 0x14B3, 'LQ135P1JX51', (29, 19), (2256, 1504, 60.0), [], 'internal_panel'),
    "linuxhw-more/SHP220B-2E9AA6A32B69.bin":
        ('SHP', 0x220B, 'PN-70TA3/B3', (154, 87), (1920, 1080, 60.0), [], 'interactive_display'),
    "linuxhw-more/SNY2702-343DB9D15A66.bin":
        ('SNY', 0x2702, 'SONY AVAMP', None, (1920, 1080, 50.0), [], 'unknown'),
    "linuxhw-more/SNYAA04-19CA9FBE9485.bin":
        ('SNY', 0xAA04, 'SONY TV  *00', (122, 68), (3840, 2160, 60.0), [], 'tv'),
    "linuxhw-more/TSB0205-EDB69B30A241.bin":
        ('TSB', 0x0205, 'TOSHIBA-TV', (160, 90), (1360, 768, 60.02), [], 'tv'),
    "linuxhw-more/VES3700-55D1031DEA07.bin":
        ('VES', 0x3700, '43UHD_LCD_TV', (94, 54), (3840, 2160, 60.0), [], 'tv'),
    "linuxhw-more/VSC36CD-B9FCFB455400.bin":
        ('VSC', 0x36CD, 'IFP7550', (166, 93), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw-more/VSC6D2C-BFBADA46EAB2.bin":
        ('VSC', 0x6D2C, 'PJD7820HD', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw-more/VSC7B32-5DABC39FD683.bin":
        ('VSC', 0x7B32, 'VA2419 Series', (53, 30), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw-more/VSC9831-121BD669F627.bin":
        ('VSC', 0x9831, 'ViewSonic PJ', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw-more/XGM8130-D3D9CC75C937.bin":
        ('XGM', 0x8130, 'XGIMI TV', (115, 65), (3840, 2160, 60.0), [], 'projector'),
    "linuxhw/ACR2110-E4138B373A5C.bin":
        ('ACR', 0x2110, 'Acer H6517ST', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/APPA03D-4158C81E090E.bin":
        ('APP', 0xA03D, 'Color LCD', (29, 18), (2560, 1600, 60.0), [], 'internal_panel'),
    "linuxhw/AUOCDAB-81BE1E58F0BE.bin":
        ('AUO', 0xCDAB, None, (34, 22), (2560, 1600, 60.0), ['B160QAN03.H'], 'internal_panel'),
    "linuxhw/BNQ1C02-E664A6D42930.bin":
        ('BNQ', 0x1C02, 'MW516', None, (1280, 800, 59.81), ['BENQ'], 'projector'),
    "linuxhw/BNQ7FA6-720C1361C3A0.bin":
        ('BNQ', 0x7FA6, 'BenQ EX3210U', (71, 40), (3840, 2160, 60.0), [], 'monitor'),
    "linuxhw/BNQE201-8E35265AED54.bin":
        ('BNQ', 0xE201, 'BenQ RP654K', (144, 81), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw/BOE0634-AAFF9BBB608B.bin":
        ('BOE', 0x0634, None, (34, 19), (1920, 1080, 60.0), ['BOE HF', 'NV156FHM-N43'], 'internal_panel'),
    "linuxhw/CMN13A9-5B6D6631F883.bin":
        ('CMN', 0x13A9, None, (29, 17), (1920, 1080, 60.0), [], 'internal_panel'),
    "linuxhw/DELA0B8-00665EA56836.bin":
        ('DEL', 0xA0B8, 'DELL U2415', (52, 32), (1920, 1200, 59.95), [], 'monitor'),
    "linuxhw/DELD0DA-978CA1D78F60.bin":
        ('DEL', 0xD0DA, 'DELL P2419H', (53, 30), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw/DELF068-09DCC6A4DAAE.bin":
        ('DEL', 0xF068, 'DELL E2216H', (48, 27), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw/DON0064-1AD7CF506B49.bin":
        ('DON', 0x0064, 'DENON-AVR', (160, 90), (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw/DPC8659-638E1F381962.bin":
        ('DPC', 0x8659, 'Vivitek H1188', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/EXN0000-40777F7604DE.bin":
        ('EXN', 0x0000, 'ExtronScalerD', None, (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw/GSM0000-150A09B7F401.bin":
        ('GSM', 0x0000, 'LG TV', None, (1366, 768, 59.96), [], 'tv'),
    "linuxhw/GSM0001-8EAF2D231CE0.bin":
        ('GSM', 0x0001, 'LG PROJECTOR', (160, 90), (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/HHT0030-1D4855D2C2F1.bin":
        ('HHT', 0x0030, 'ActivPanel V6', (115, 65), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw/HPN3462-023C5ADEB0B9.bin":
        ('HPN', 0x3462, 'HP E243i', (52, 32), (1920, 1200, 59.95), [], 'monitor'),
    "linuxhw/HTC6645-F09CAFFCB16B.bin":
        ('HTC', 0x6645, 'Projector', (120, 90), (1024, 768, 60.0), [], 'projector'),
    "linuxhw/IFSFF10-FE542B26AEAA.bin":
        ('IFS', 0xFF10, 'InFocus 5520D', (121, 68), (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/ITE6664-98BB335E0467.bin":
        ('ITE', 0x6664, 'ITE-Splitter', (95, 54), (1920, 1080, 60.0), [], 'unknown'),
    "linuxhw/IVM1078-96F84DF0C4BD.bin":
        ('IVM', 0x1078, 'PL7568', (166, 93), (3840, 2160, 30.0), [], 'interactive_display'),
    "linuxhw/IVM612F-066CD7E89D69.bin":
        ('IVM', 0x612F, 'PL2492H', (53, 30), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw/LGD0222-6621ACE72571.bin":
        ('LGD', 0x0222, 'LP156WH2-TLC2', (34, 19), (1366, 768, 59.64), ['LG Display'], 'internal_panel'),
    "linuxhw/LPLA500-C13546E9A25E.bin":
        ('LPL', 0xA500, None, (30, 19), (1280, 800, 59.91), ['LGPhilipsLCD', 'LP141WX1-TLA2'],
         'internal_panel'),
    "linuxhw/MEID077-B0F31DEE7415.bin":
        ('MEI', 0xD077, 'PT-LB80/75', None, (1024, 768, 60.0), [], 'projector'),
    "linuxhw/NEC7A1B-82E476176E30.bin":
        ('NEC', 0x7A1B, 'NP-M311X', None, (1024, 768, 60.0), [], 'projector'),
    "linuxhw/NLE0032-2B82E0F4C744.bin":
        ('NLE', 0x0032, 'Newline', (115, 65), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw/OTM0076-6AD1CF44C077.bin":
        ('OTM', 0x0076, 'Optoma UHD', (122, 68), (3840, 2160, 60.0), [], 'projector'),
    "linuxhw/OTM0550-9E3F344975D5.bin":
        ('OTM', 0x0550, 'Optoma WXGA', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw/PRW5575-EF0C391FD6E8.bin":
        ('PRW', 0x5575, 'AP7Nickel75', (174, 98), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw/SAM0D20-012CD51374AE.bin":
        ('SAM', 0x0D20, 'S24F350', (52, 29), (1920, 1080, 60.0), [], 'monitor'),
    "linuxhw/SAM0D3A-13E4F996FC78.bin":
        ('SAM', 0x0D3A, 'SAMSUNG', (121, 68), (3840, 2160, 30.0), [], 'tv'),
    "linuxhw/SBI0030-E0738FEC0FD9.bin":
        ('SBI', 0x0030, 'SMART UF70w', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw/SBI0070-969ECF0800EF.bin":
        ('SBI', 0x0070, 'SBID-MX065', (144, 81), (3840, 2160, 60.0), [], 'interactive_display'),
    "linuxhw/SEC3245-8DFA9D06CA94.bin":
        ('SEC', 0x3245, None, (34, 19), (1366, 768, 60.0), ['SAMSUNG', 'LTN156AT02000'], 'internal_panel'),
    "linuxhw/SECA514-46FD547BEEF9.bin":
        ('SEC', 0xA514, 'EPSON PJ', (160, 90), (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/SECA605-406CF1A8C30A.bin":
        ('SEC', 0xA605, 'EPSON PJ', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw/SECA610-F5819F694D53.bin":
        ('SEC', 0xA610, 'EPSON PJ', None, (1280, 800, 59.81), [], 'projector'),
    "linuxhw/SNY4803-5C2EADFD83D1.bin":
        ('SNY', 0x4803, 'SONY TV', (122, 68), (1920, 1080, 60.0), [], 'tv'),
    "linuxhw/SNY6203-4AD8F7B4E82C.bin":
        ('SNY', 0x6203, 'SONY PJ', (221, 125), (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/TSB8888-01F70CF3EB4B.bin":
        ('TSB', 0x8888, 'PI-KVM Video', None, (1920, 1080, 49.88), [], 'unknown'),
    "linuxhw/VIZ0401-88924575389D.bin":
        ('VIZ', 0x0401, 'OPTOMA 1080P', None, (1920, 1080, 60.0), [], 'projector'),
    "linuxhw/VSC3A30-7D15B4515B78.bin":
        ('VSC', 0x3A30, 'PJD5555LW', None, (1280, 800, 59.81), [], 'projector'),
}
SIZES_ARE_TOKENS = {"linuxhw-more/PRW4200-49A115123082.bin"}  # 1x1 cm: an aspect ratio, not a size


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_edid_decodes_to_the_values_read_by_hand(name: str) -> None:
    pnp, code, display_name, size, preferred, alnum, _kind = CASES[name]
    e = parse_edid((EDID / name).read_bytes())
    assert (e.pnp_id, e.product_code, e.name) == (pnp, code, display_name)
    assert e.alnum_strings == alnum
    if size is None:
        assert (e.width_cm, e.height_cm, e.size_undefined) == (None, None, True)
    else:
        assert (e.width_cm, e.height_cm) == size
    assert e.preferred is not None and (e.preferred.width_px, e.preferred.height_px) == preferred[:2]
    assert e.preferred.refresh_hz == pytest.approx(preferred[2], abs=0.01)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_edid_gets_the_kind_of_the_device_it_comes_from(name: str) -> None:
    kind, reason = classify(parse_edid((EDID / name).read_bytes()))
    assert kind == CASES[name][-1], reason
    assert reason


def test_the_generality_set_covers_every_kind_with_several_makers() -> None:
    more = {k: v for k, v in CASES.items() if "-more/" in k}
    makers: dict[str, set[str]] = {}
    for pnp, *_rest, kind in more.values():
        makers.setdefault(kind, set()).add(pnp)
    assert {k: len(v) for k, v in makers.items()} == {
        "projector": 16, "interactive_display": 8, "tv": 8, "monitor": 9, "internal_panel": 12, "unknown": 6}


def test_reasons_name_the_signals_used() -> None:
    epson = classify(parse_edid((EDID / "linuxhw/SECA610-F5819F694D53.bin").read_bytes()))[1]
    assert "EPSON PJ" in epson and "0×0" in epson and "Seiko Epson" in epson
    acer = classify(parse_edid((EDID / "linuxhw-more/ACR1504-B7F63D1401F3.bin").read_bytes()))[1]
    assert "X1340WH" in acer and "0×0" in acer
    extron = classify(parse_edid((EDID / "linuxhw/EXN0000-40777F7604DE.bin").read_bytes()))[1]
    assert "AV equipment" in extron and "not visible" in extron
    iiyama = classify(parse_edid((EDID / "linuxhw/IVM1078-96F84DF0C4BD.bin").read_bytes()))[1]
    assert "166×93 cm" in iiyama and "signage" in iiyama


def test_an_internal_connector_makes_any_edid_the_laptops_panel() -> None:
    e = parse_edid((EDID / "linuxhw/CMN13A9-5B6D6631F883.bin").read_bytes())
    assert classify(e, "eDP-1")[0] == "internal_panel"
    assert "eDP-1" in classify(e, "eDP-1")[1]
    monitor = parse_edid((EDID / "linuxhw/DELA0B8-00665EA56836.bin").read_bytes())
    assert classify(monitor, None)[0] == "monitor"


@pytest.mark.parametrize("name", sorted(n for n in CASES if n.startswith(("linuxhw/", "linuxhw-more/"))))
def test_the_hex_listing_of_each_linuxhw_file_is_its_edid(name: str) -> None:
    text = (EDID / name).with_suffix(".txt").read_text(encoding="utf-8")
    assert hex_bytes(text) == (EDID / name).read_bytes()


# ---- broken EDIDs: a partial reading and the problem, never a crash or an invented value

def test_a_bad_checksum_in_the_cta_block_is_reported_and_the_display_kept() -> None:
    e = parse_edid((EDID / "linuxhw/ACR2110-E4138B373A5C.bin").read_bytes())
    assert e.checksum_ok == [True, False]
    assert e.problems == ["bad checksum in block 1"]
    assert (e.pnp_id, e.name, e.truncated) == ("ACR", "Acer H6517ST", False)


@pytest.mark.parametrize(("name", "blocks", "announced"), [
    ("linuxhw/DELD0DA-978CA1D78F60.bin", 1, 2),
    ("glpi/acer-p1283.bin", 1, 2),
    ("glpi/iiyama-PL2779A.bin", 1, 2),
])
def test_a_truncated_edid_keeps_its_base_block_facts(name: str, blocks: int, announced: int) -> None:
    e = parse_edid((EDID / name).read_bytes())
    assert e.truncated and e.blocks_present == blocks and e.extension_count == announced - 1
    assert f"truncated: {blocks} of {announced} announced blocks present" in e.problems
    assert e.pnp_id == CASES[name][0] and e.name == CASES[name][2]
    assert e.extension_tags == [] and e.cta is None


def test_a_base_block_cut_short_gives_what_its_bytes_hold_and_no_more() -> None:
    data = (EDID / "linuxhw/DELA0B8-00665EA56836.bin").read_bytes()[:40]
    e = parse_edid(data)
    assert (e.pnp_id, e.product_code, e.year, e.edid_version) == ("DEL", 0xA0B8, 2016, "1.4")
    assert (e.width_cm, e.height_cm) == (52, 32)
    assert e.name is None and e.preferred is None and e.checksum_ok == []
    assert e.truncated and "base block cut short: 40 of 128 bytes" in e.problems


def test_a_bad_base_checksum_and_an_extra_byte_are_problems_not_crashes() -> None:
    data = bytearray((EDID / "linuxhw/HPN3462-023C5ADEB0B9.bin").read_bytes())
    data[127] ^= 0xFF
    e = parse_edid(bytes(data) + b"\x00")
    assert e.checksum_ok == [False] and "bad checksum in block 0 (base block)" in e.problems
    assert e.name == "HP E243i"


@pytest.mark.parametrize("data", [b"", b"\x00\xff", b"not an edid at all, just text", bytes(128)])
def test_what_is_not_an_edid_is_refused_with_a_reason(data: bytes) -> None:
    with pytest.raises(EdidError):
        parse_edid(data)


def test_hex_without_an_edid_header_gives_nothing() -> None:
    assert hex_bytes("00 11 22 33\n44 55 66 77\n") is None
    assert hex_bytes("Checksum: 0xc2\n") is None


# ---- cross-check with the developer set's facts.json (computed by another decoder)

def _facts() -> dict[str, dict]:
    return {k: v for k, v in json.loads(FACTS.read_text(encoding="utf-8")).items() if k.startswith("edid/")}


@pytest.mark.parametrize("name", sorted(_facts()))
def test_the_decoder_agrees_with_facts_json(name: str) -> None:
    f = _facts()[name]
    e = parse_edid((EDID.parent / name).read_bytes())
    assert (e.pnp_id, e.product_code_hex, e.serial_number) == (f["pnp_id"], f["product_code_hex"],
                                                               f["serial_number"])
    assert (e.name, e.serial_string, e.alnum_strings) == (f["name"], f["serial_string"], f["alnum_strings"])
    assert (e.year, e.week or 0 if not e.model_year else 255, e.model_year) == (f["year"], f["week"],
                                                                              f["model_year"])
    assert [e.width_cm or 0, e.height_cm or 0] == f["size_cm"] and e.size_undefined == f["size_undefined"]
    assert (e.digital, e.edid_version, e.interface) == (f["digital"], f["edid_version"], f["interface"])
    assert e.preferred is not None and [e.preferred.width_px, e.preferred.height_px] == f["preferred"]
    assert math.isclose(e.preferred.refresh_hz or 0, f["preferred_hz"], abs_tol=0.05)
    blocks = (f["extension_count"], f["blocks_present"], f["extension_tags"])
    assert (e.extension_count, e.blocks_present, e.extension_tags) == blocks
    assert (e.checksum_ok, e.truncated) == (f["checksum_ok"], f["truncated"])
    assert classify(e)[0] in f["kind_accept"]
