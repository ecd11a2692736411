# Sourced by .ci/install, .ci/run and .ci/venv: which Python environment the project's commands use.
#
# An activated virtual environment ($VIRTUAL_ENV) is used as it is; otherwise .venv in the checkout,
# which .ci/install creates with `python3 -m venv`.  A venv, not the system Python: Debian's python3
# is "externally managed" (PEP 668) and refuses `pip install` outside one.

project_venv() {
  if [ -n "${VIRTUAL_ENV:-}" ] && [ -x "${VIRTUAL_ENV}/bin/python" ]; then
    printf '%s\n' "$VIRTUAL_ENV"
  else
    printf '%s\n' "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv"
  fi
}

# Put the project's environment first on PATH, as `. bin/activate` would.
activate_project_venv() {
  local dir
  dir="$(project_venv)"
  if [ ! -x "$dir/bin/python" ]; then
    echo "no Python environment at $dir: run 'bash .ci/install' first" >&2
    return 1
  fi
  export VIRTUAL_ENV="$dir"
  export PATH="$dir/bin:$PATH"
  unset PYTHONHOME
}
