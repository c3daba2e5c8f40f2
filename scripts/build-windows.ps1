# Builds the frozen Windows agent (dist\socle-agent\socle-agent.exe) and an offline wheel bundle.
# NOT RUN by the project: no Windows machine was at hand. The same spec is built and run on
# Linux by tests/packaging/test_frozen.py. On a Windows 10/11 machine with Python 3.10+ from
# python.org and this repository checked out, in PowerShell, from the repository root:
#
#   powershell -ExecutionPolicy Bypass -File scripts\build-windows.ps1
#
$ErrorActionPreference = "Stop"
Set-Location (Split-Path -Parent $PSScriptRoot)

$venv = ".build-venv"
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3 -m venv $venv }
$py = "$venv\Scripts\python.exe"

# The agent's wheel, from this tree (packaging/agent), and PyInstaller to freeze it.
& $py -m pip install --upgrade pip
& $py -m pip wheel --no-deps packaging\agent -w dist\wheels
$wheel = Get-ChildItem dist\wheels\socle_agent-*.whl | Select-Object -First 1
& $py -m pip install $wheel.FullName "pyinstaller>=6" "uv>=0.4"
if ($LASTEXITCODE -ne 0) { throw "pip install failed" }

# Frozen onedir build: dist\socle-agent\socle-agent.exe and its _internal folder.
& "$venv\Scripts\pyinstaller.exe" --noconfirm --distpath dist --workpath build\pyinstaller `
    packaging\pyinstaller\socle-agent.spec
if ($LASTEXITCODE -ne 0) { throw "pyinstaller failed" }

# The three commands the Linux test runs, here without a collector: check keeps its report.
$exe = "dist\socle-agent\socle-agent.exe"
& $exe --version
& $exe --state-dir build\smoke-state check --no-send --uai 0350122T --room CM1
& $exe --state-dir build\smoke-state status

# An offline bundle of wheels for the other machines' Python (pip install, not frozen).
& "$venv\Scripts\socle-agent.exe" bundle --platform win_amd64 --out dist\bundle-win_amd64 --wheel $wheel.FullName
Write-Host "frozen agent: dist\socle-agent; wheel bundle: dist\bundle-win_amd64"
