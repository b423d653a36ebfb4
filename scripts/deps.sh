# Installs the system packages bpftop needs to build and test, if missing.
# Sourced by scripts/run and scripts/test; needs apt (Debian, Ubuntu).

# clang compiles the BPF programs; libelf, zlib and pkg-config build the
# vendored libbpf; strace measures syscalls per refresh in the tests; tmux
# runs the interface end to end; prometheus (with promtool) scrapes
# --serve in its integration test; libcap2-bin (setcap) and passwd (useradd)
# let the security tests run a capability-carrying copy as an ordinary user.
BPFTOP_PACKAGES="clang libelf-dev zlib1g-dev pkg-config make gcc strace tmux prometheus libcap2-bin passwd"

bpftop_install_deps() {
    local missing=()
    local pkg
    for pkg in $BPFTOP_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "installing: ${missing[*]}" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if ! command -v cargo >/dev/null; then
        echo "cargo not found: install a stable Rust toolchain (https://rustup.rs) and retry" >&2
        return 1
    fi
}
