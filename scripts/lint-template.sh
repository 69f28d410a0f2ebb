#!/bin/sh
# `npm run lint:template`: cfn-lint on template.yaml. cfn-lint is a Python tool, not an npm
# package, so `npm ci` cannot provide it; without it say how to install it (instead of the
# shell's bare "cfn-lint: not found") and fail, so `npm test` never passes without the check.
# Extra arguments go to cfn-lint (e.g. `npm run lint:template -- --format json`).
set -u
cd "$(dirname "$0")/.." || exit 1
# The version .ci/run installs; keep the two in step.
version=1.51.0
if ! command -v cfn-lint >/dev/null 2>&1 || ! cfn-lint --version >/dev/null 2>&1; then
  cat >&2 <<MSG
cfn-lint is not installed, so template.yaml cannot be checked (npm test runs it).
Install it, then run npm test again:
  pip install "cfn-lint==$version"            # or: pipx install "cfn-lint==$version"
  # on a Python whose packages the OS manages (PEP 668, e.g. Debian 12):
  python3 -m venv ~/.venvs/cfn-lint && ~/.venvs/cfn-lint/bin/pip install "cfn-lint==$version" \\
    && export PATH="\$HOME/.venvs/cfn-lint/bin:\$PATH"
.ci/run installs it the same way on a fresh CI machine.
MSG
  exit 1
fi
exec cfn-lint template.yaml "$@"
