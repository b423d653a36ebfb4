# Installs the system packages bpftop needs, if missing. Sourced by
# scripts/run, scripts/install (building) and scripts/test (building and
# testing); needs apt (Debian, Ubuntu).

# Building: clang compiles the BPF programs; libelf, zlib and pkg-config
# build the vendored libbpf.
BPFTOP_BUILD_PACKAGES="clang libelf-dev zlib1g-dev pkg-config make gcc"
# Testing only: strace measures syscalls per refresh; tmux runs the
# interface end to end; prometheus (with promtool) scrapes --serve;
# libcap2-bin (setcap) and passwd (useradd) let the security tests run a
# capability-carrying copy as an ordinary user; perl rewrites a process
# title in place.
BPFTOP_TEST_PACKAGES="strace tmux prometheus libcap2-bin passwd perl"

# bpftop_install_deps [test]: the build packages, and with "test" the test
# packages too. Recommends are not installed (prometheus would pull in a
# node exporter that starts a second service on a systemd host).
bpftop_install_deps() {
    local wanted="$BPFTOP_BUILD_PACKAGES"
    [ "${1:-}" = test ] && wanted="$wanted $BPFTOP_TEST_PACKAGES"
    local missing=()
    local pkg
    for pkg in $wanted; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "installing: ${missing[*]}" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null
    fi
    if ! command -v cargo >/dev/null; then
        echo "cargo not found: install a stable Rust toolchain (https://rustup.rs) and retry" >&2
        return 1
    fi
}
