"""The pure parts of ``socle-agent bundle``: platforms, manylinux tags, the lock, refusals, clean-up.

The bundles themselves (uv and pip against the index) are made in tests/packaging/.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from agent.bundle import (
    BundleError,
    Pin,
    manylinux_tags,
    parse_lock,
    parse_platform,
    parse_python,
    rewrite_lock,
    source_only,
    wheel_name_version,
    wheel_requirements,
)
from agent.bundle_cmd import make_bundle

H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def test_windows_and_macos_platforms() -> None:
    win = parse_platform("win_amd64")
    assert (win.uv_platform, win.pip_platforms, win.macos_version) == ("x86_64-pc-windows-msvc",
                                                                        ("win_amd64",), None)
    mac = parse_platform("macosx_11_0_arm64")
    assert (mac.uv_platform, mac.pip_platforms, mac.macos_version) == ("aarch64-apple-darwin",
                                                                        ("macosx_11_0_arm64",), "11.0")
    assert parse_platform("macosx-10.12-x86_64").tag == "macosx_10_12_x86_64"


def test_manylinux_expands_to_the_older_tags_a_machine_accepts() -> None:
    t = parse_platform("manylinux_2_17_x86_64")
    assert t.uv_platform == "x86_64-manylinux_2_17"
    assert t.pip_platforms[:3] == ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_16_x86_64")
    assert "manylinux2010_x86_64" in t.pip_platforms and t.pip_platforms[-2:] == ("manylinux_2_5_x86_64",
                                                                                  "manylinux1_x86_64")
    assert len(manylinux_tags(17, "x86_64")) == 13 + 3
    assert "manylinux1_aarch64" not in manylinux_tags(17, "aarch64")  # manylinux1 was x86 only
    assert parse_platform("manylinux2014_aarch64").tag == "manylinux_2_17_aarch64"


@pytest.mark.parametrize(("tag", "says"), [
    ("windows", "unknown platform 'windows'"),
    ("macosx_10_15_arm64", "Apple silicon starts at macOS 11"),
    ("manylinux_2_17_armv7l", "Linux on armv7l is not supported"),
    ("manylinux_2_12_x86_64", "glibc 2.12 is outside 2.17-2.40"),
    ("linux_x86_64", "win_amd64, win_arm64, macosx_11_0_arm64"),
])
def test_platforms_refused_with_the_reason(tag: str, says: str) -> None:
    with pytest.raises(BundleError, match=says.replace(".", r"\.").replace("(", r"\(")):
        parse_platform(tag)


def test_python_versions() -> None:
    assert parse_python("3.10") == "3.10" and parse_python(" 3.12 ") == "3.12"
    for bad in ("3.9", "3", "3.10.4", "py310"):
        with pytest.raises(BundleError, match=r"3\.10 or newer"):
            parse_python(bad)


LOCK = f"""annotated-types==0.8.0 \\
    --hash=sha256:{H1} \\
    --hash=sha256:{H2}
Pydantic_Core==2.50.5 \\
    --hash=sha256:{H3}
tzdata==2026.6
"""


def test_parse_lock_reads_uv_output() -> None:
    assert parse_lock(LOCK) == {"annotated-types": Pin("0.8.0", frozenset({H1, H2})),
                                "pydantic-core": Pin("2.50.5", frozenset({H3})),
                                "tzdata": Pin("2026.6", frozenset())}
    with pytest.raises(BundleError, match="cannot pin"):
        parse_lock("-e ./somewhere\n")


def test_rewrite_lock_keeps_the_one_file_of_the_folder() -> None:
    files = {"annotated_types-0.8.0-py3-none-any.whl": H2,
             "pydantic_core-2.50.5-cp310-cp310-win_amd64.whl": H3,
             "tzdata-2026.6-py2.py3-none-any.whl": "d" * 64}
    assert rewrite_lock(parse_lock(LOCK), files) == [
        f"annotated-types==0.8.0 --hash=sha256:{H2}",
        f"pydantic-core==2.50.5 --hash=sha256:{H3}",
        f"tzdata==2026.6 --hash=sha256:{'d' * 64}"]


@pytest.mark.parametrize(("files", "says"), [
    ({"annotated_types-0.8.0-py3-none-any.whl": "e" * 64}, "not one the index lists"),
    ({"annotated_types-0.7.0-py3-none-any.whl": H1}, "the resolver pinned 0.8.0"),
    ({}, "no wheel of it was downloaded"),
    ({"annotated_types-0.8.0-py3-none-any.whl": H1, "numpy-2.0-cp310-cp310-win_amd64.whl": H1},
     "nobody asked for in the folder: numpy"),
    ({"annotated-types-0.8.0.tar.gz": H1}, "only wheels can be installed offline"),
])
def test_rewrite_lock_refuses_a_folder_that_is_not_the_lock(files: dict[str, str], says: str) -> None:
    with pytest.raises(BundleError, match=says):
        rewrite_lock({"annotated-types": Pin("0.8.0", frozenset({H1}))}, files)


def test_wheel_name_version_and_source_only() -> None:
    assert wheel_name_version("typing_extensions-4.16.0-py3-none-any.whl") == ("typing-extensions", "4.16.0")
    err = ("ERROR: Could not find a version that satisfies the requirement netifaces==0.11.0\n"
           "ERROR: No matching distribution found for netifaces==0.11.0\n")
    assert source_only(err) == "netifaces==0.11.0"
    assert source_only("ERROR: HTTP error 503") is None


def _wheel(path: Path, requires: Sequence[str]) -> Path:
    meta = "Metadata-Version: 2.1\nName: socle-agent\nVersion: 0.1.0\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("socle_agent-0.1.0.dist-info/METADATA", meta)
    return path


def test_wheel_requirements_leave_the_extras_out(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "socle_agent-0.1.0-py3-none-any.whl",
                   ["psutil>=6.0", "tomli>=1.1; python_version < '3.11'", "uv>=0.4; extra == 'bundle'"])
    assert wheel_requirements(wheel) == ("socle-agent", "0.1.0",
                                         ["psutil>=6.0", "tomli>=1.1; python_version < '3.11'"])


class FakeTools:
    """uv and pip as seams: uv pins one package, pip 'downloads' what ``files`` says."""

    def __init__(self, files: dict[str, bytes], pip_code: int = 0, pip_err: str = "") -> None:
        self.files, self.pip_code, self.pip_err = files, pip_code, pip_err
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], env: dict[str, str] | None) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        if "compile" in argv:
            digest = hashlib.sha256(b"psutil").hexdigest()
            return 0, f"psutil==7.2.2 \\\n    --hash=sha256:{digest}\n", ""
        out = Path(argv[argv.index("-d") + 1])
        for name, data in self.files.items():
            (out / name).write_bytes(data)
        return self.pip_code, "", self.pip_err


def test_make_bundle_writes_the_lock_and_the_instructions(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.bundle_cmd.uv_binary", lambda: "uv")
    tools = FakeTools({"psutil-7.2.2-cp37-abi3-win_amd64.whl": b"psutil"})
    wheel = _wheel(tmp_path / "socle_agent-0.1.0-py3-none-any.whl", ["psutil>=6.0"])
    made = make_bundle("win_amd64", "3.10", tmp_path / "out", wheel=wheel, run=tools)
    assert made.wheels == 2
    lines = (tmp_path / "out" / "requirements.txt").read_text().splitlines()
    assert lines[0] == f"psutil==7.2.2 --hash=sha256:{hashlib.sha256(b'psutil').hexdigest()}"
    assert lines[1].startswith("socle-agent==0.1.0 --hash=sha256:")
    assert "pip install --no-index --find-links DIR" in (tmp_path / "out" / "INSTALL.txt").read_text()
    download = tools.calls[1]
    assert download[download.index("--platform") + 1] == "win_amd64" and "--require-hashes" in download
    assert download[download.index("--python-version") + 1] == "3.10" and "--only-binary=:all:" in download


def test_a_source_only_package_is_refused_and_the_folder_removed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("agent.bundle_cmd.uv_binary", lambda: "uv")
    tools = FakeTools({"half.whl": b"x"}, pip_code=1,
                      pip_err="ERROR: No matching distribution found for psutil==7.2.2\n")
    wheel = _wheel(tmp_path / "socle_agent-0.1.0-py3-none-any.whl", ["psutil>=6.0"])
    with pytest.raises(BundleError, match=r"psutil==7.2.2 has no wheel for win_amd64 .*source only"):
        make_bundle("win_amd64", "3.10", tmp_path / "out", wheel=wheel, run=tools)
    assert not (tmp_path / "out").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError):
        make_bundle("win_amd64", "3.10", tmp_path / "empty", wheel=wheel, run=tools)
    assert list((tmp_path / "empty").iterdir()) == []  # an existing folder is kept, emptied


def test_a_folder_with_files_is_not_touched(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(BundleError, match="not an empty folder"):
        make_bundle("win_amd64", "3.10", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"
