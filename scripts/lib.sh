# Shared set-up steps for scripts/demo and scripts/test (sourced, not run).
VENV="${SOCLE_VENV:-$PWD/.venv}"

# Debian packages the tests and benchmarks use. Installed only when missing.
SYSTEM_PACKAGES=(iperf3 iptables nftables iproute2 dnsmasq chromium openssl prometheus-node-exporter zbar-tools)

install_system_packages() {
    local missing=()
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "note: not root, cannot install ${missing[*]}; tests that need them will skip" >&2
        return 0
    fi
    echo "== apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "== python venv in $VENV"
        python3 -m venv "$VENV"
    fi
    # Before the two distributions, the whole tree was one "socle" project: drop it from
    # an older venv so its entry points and import hooks do not shadow the new ones.
    if "$VENV/bin/python" -m pip show -q socle >/dev/null 2>&1; then
        "$VENV/bin/python" -m pip uninstall -q -y socle
    fi
    rm -rf socle.egg-info  # its metadata, left at the root by that editable install
    # socle-agent, socle-collector (which depends on that very socle-agent) and the
    # workspace's test tools; pyproject.toml says which is which.
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -e packaging/agent -e 'packaging/collector[postgres]' -e '.[test]'
}

start_postgres() {
    command -v pg_isready >/dev/null || return 0
    if ! pg_isready -q -h 127.0.0.1 -p 5432; then
        echo "== starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
    fi
}
