# Sourced by the scripts: install_packages PACKAGE... installs the Debian 12 packages that are
# missing (with sudo when not root). HYPERFUSE_PACKAGES lists what every build needs.
# libboost-context-dev: the CUDA emulation's fibers; libcli11-dev: the command line;
# libonnx-dev and libprotobuf-dev: hyperfuse export; gnuplot-nox: hyperfuse report's plots (run
# as a program).
HYPERFUSE_PACKAGES=(g++ make cmake libtomlplusplus-dev libboost-dev libboost-context-dev libsqlite3-dev libxsmm-dev
  libgtest-dev libopenmpi-dev openmpi-bin libcli11-dev libonnx-dev libprotobuf-dev gnuplot-nox)

install_packages() {
  local missing=() p sudo
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "hyperfuse: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "hyperfuse: please run as root: apt-get install -y ${missing[*]}" >&2
    return 1
  fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
