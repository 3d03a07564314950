#!/usr/bin/env bash
# Set up twin_bridge in a local virtualenv (.venv) and run it.
#   ./run.sh demo [twin_demo options]   embedded twin demo (physical stand-in + twin over DDS)
#   ./run.sh test [pytest options]      lint + the full test suite, once, in random order
# Needs Debian/Ubuntu with Python >= 3.10; installs what is missing (apt as root or via sudo).
set -euo pipefail
CALLER_DIR=$PWD
cd "$(dirname "$0")"
ROOT=$PWD
VENV=${TWIN_BRIDGE_VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

log() { printf '\033[1m[run.sh]\033[0m %s\n' "$*" >&2; }

apt_install() {
  # Install Debian packages that are missing; no-op when all are present.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing Debian packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
}

setup_venv() {
  # $1: requirements file. Re-installs only when it (or setup.py) changed.
  local reqs=$1
  if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
    log "Python >= 3.10 is required ($PYTHON is $("$PYTHON" --version 2>&1))"; exit 1
  fi
  if ! "$PYTHON" -m venv --help >/dev/null 2>&1 || ! "$PYTHON" -c 'import ensurepip' 2>/dev/null; then
    command -v dpkg >/dev/null && apt_install python3-venv python3-pip
  fi
  [ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PYTHON" -m venv "$VENV"; }
  local stamp="$VENV/.twin_bridge-$(cat "$reqs" requirements.txt setup.py | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    log "installing Python dependencies ($reqs) - first run takes a few minutes"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r "$reqs"
    touch "$stamp"
  fi
  # The package itself (share files + ament index marker + console scripts) into the venv.
  "$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation . >/dev/null
  export AMENT_PREFIX_PATH="$VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
  export ROS_AUTOMATIC_DISCOVERY_RANGE=${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    # The MQTT broker for `--mqtt` (a robot that speaks MQTT instead of ROS).
    command -v dpkg >/dev/null && apt_install mosquitto
    setup_venv requirements.txt
    # Relative --world/--output paths are the caller's: run from where we were called.
    cd "$CALLER_DIR"
    exec "$VENV/bin/python" -m twin_bridge.demo "$@"
    ;;
  test)
    # SDF/URDF validators used by the file tests; the MQTT broker the MQTT tests start.
    command -v dpkg >/dev/null && apt_install ignition-tools libsdformat-dev ruby liburdfdom-tools mosquitto
    setup_venv requirements-test.txt
    log "ruff check"
    "$VENV/bin/ruff" check .
    # One run in a random order (pytest-randomly), so no test leans on another having run
    # first. The seed is printed; rerun that order with TWIN_BRIDGE_TEST_SEED=N, or pass
    # -p no:randomly (or your own --randomly-seed) through the arguments.
    order=()
    if [[ " $* " != *randomly* ]]; then
      seed=${TWIN_BRIDGE_TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}
      order=(-p randomly "--randomly-seed=$seed")
      log "pytest in random order: --randomly-seed=$seed"
    else
      log "pytest"
    fi
    set +e
    "$VENV/bin/python" -m pytest -ra "${order[@]}" "$@" test
    rc=$?
    set -e
    # pytest exit code 5 = no tests collected: that is a failure for us, not a pass.
    [ $rc -eq 5 ] && log "no tests were collected"
    exit $rc
    ;;
  *)
    sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
