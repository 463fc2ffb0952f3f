#!/usr/bin/env bash
# The run logic of the aico-secure GitHub Action (action.yml), kept in a script so it can be run and tested
# outside GitHub (verification/integrations/test_github_action.py). One phase per action step:
#
#   conform.sh install   pip install aico-secure[extras] from the action's own checkout, so a pinned action
#                        version installs exactly that version's code; AICO_SECURE_SKIP_INSTALL=1 skips it
#                        (tests, or a job that installed aico-secure itself)
#   conform.sh run       aico-secure conform writing JUnit, SARIF and JSON into the report directory; its exit
#                        code is recorded (step output exit-code) and this phase itself succeeds, so the
#                        uploads that follow still run
#   conform.sh verdict   re-raises the recorded exit code: the job fails after the reports were uploaded
#
# Inputs arrive as environment variables (never interpolated into the script, so an input cannot inject shell):
# AICO_ACTION_PATH, AICO_TARGET, AICO_PROFILE, AICO_EXTRAS, AICO_REPORT_DIR, AICO_ARGS, AICO_EXIT_CODE.
set -euo pipefail

output() {  # a step output when run by GitHub, nothing otherwise
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}

install() {
  if [ "${AICO_SECURE_SKIP_INSTALL:-}" = "1" ]; then
    echo "aico-secure action: AICO_SECURE_SKIP_INSTALL=1, using the aico-secure already installed"
    command -v aico-secure >/dev/null || { echo "aico-secure action: no aico-secure on PATH" >&2; exit 2; }
    return
  fi
  local source="${AICO_ACTION_PATH:?AICO_ACTION_PATH is not set}"
  local extras="${AICO_EXTRAS:-}"
  extras="${extras// /}"
  if [ -n "$extras" ]; then source="${source}[${extras}]"; fi
  python -m pip install --disable-pip-version-check "$source"
}

run() {
  local target="${AICO_TARGET:?the target input is required (PKG.MOD:FACTORY)}"
  local dir="${AICO_REPORT_DIR:?the report-dir input is required}"
  local -a extra=()
  # Extra arguments are split on whitespace with globbing off: no quoting, no expansion, no injection.
  set -f
  # shellcheck disable=SC2206
  extra=(${AICO_ARGS:-})
  set +f
  mkdir -p "$dir"
  local log code=0
  log="$(mktemp "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/aico-conform.XXXXXX")"
  aico-secure conform --target "$target" --profile "${AICO_PROFILE:-quick}" \
    --format junit --format sarif --format json --output "$dir" "${extra[@]}" 2>&1 | tee "$log" || code=$?
  output exit-code "$code"
  # The report names are timestamped; conform prints each one it wrote, which is the only reliable way to know
  # which SARIF file belongs to this run in a directory that may hold older ones.
  output sarif "$(sed -n 's/^report written: \(.*\.sarif\)$/\1/p' "$log" | tail -n 1)"
  rm -f "$log"
  echo "aico-secure action: conform exited $code; reports in $dir"
}

verdict() {
  local code="${AICO_EXIT_CODE:-}"
  if ! [[ "$code" =~ ^[0-9]+$ ]]; then
    echo "aico-secure action: the conform step recorded no exit code (it did not run); failing" >&2
    exit 2
  fi
  if [ "$code" -ne 0 ]; then
    echo "aico-secure action: conformance verdict failed (exit $code)" >&2
  fi
  exit "$code"
}

case "${1:-}" in
  install) install ;;
  run) run ;;
  verdict) verdict ;;
  *) echo "usage: conform.sh install|run|verdict" >&2; exit 2 ;;
esac
