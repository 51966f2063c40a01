#!/usr/bin/env bash
# ops/_venv.sh — source me: make sure the project's virtualenv exists and is current.
#
# Creates .venv at the repository root with `python3 -m venv` when it is missing,
# and (re)installs the project editable with its dev extras (`pip install -e ".[dev]"`)
# only when pyproject.toml is newer than the stamp .venv/.installed-stamp, so that
# repeated runs cost nothing. Then puts .venv/bin first on PATH.
#
# Works from any current directory: it changes to the repository root, computed
# from this file's path, and leaves the caller there. Progress goes to stderr.
# Needs only Python 3.11 (python3) on a fresh machine; PYTHON overrides the interpreter.
set -euo pipefail

KL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export KL_ROOT
cd "$KL_ROOT"

_kl_venv="$KL_ROOT/.venv"
_kl_stamp="$_kl_venv/.installed-stamp"

if [[ ! -x "$_kl_venv/bin/python" ]]; then
    echo "ops/_venv.sh: creating virtualenv $_kl_venv with ${PYTHON:-python3}" >&2
    "${PYTHON:-python3}" -m venv "$_kl_venv"
    rm -f "$_kl_stamp"
fi

if [[ ! -f "$_kl_stamp" || "$KL_ROOT/pyproject.toml" -nt "$_kl_stamp" ]]; then
    echo "ops/_venv.sh: installing the project editable with dev extras (pip install -e .[dev])" >&2
    # Install to a log first so a failure shows pip's output but a success stays quiet.
    _kl_log="$(mktemp)"
    if ! "$_kl_venv/bin/python" -m pip install --quiet -e "$KL_ROOT[dev]" >"$_kl_log" 2>&1; then
        cat "$_kl_log" >&2
        rm -f "$_kl_log"
        echo "ops/_venv.sh: ERROR: pip install -e .[dev] failed (output above)" >&2
        exit 1
    fi
    rm -f "$_kl_log"
    touch "$_kl_stamp"
else
    echo "ops/_venv.sh: .venv is up to date with pyproject.toml" >&2
fi

export VIRTUAL_ENV="$_kl_venv"
case ":$PATH:" in
    *":$_kl_venv/bin:"*) ;;
    *) export PATH="$_kl_venv/bin:$PATH" ;;
esac
unset _kl_venv _kl_stamp
