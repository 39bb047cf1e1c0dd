#!/usr/bin/env bash
# Builds build/lambda (and build/lambda.zip), the code of every function in infra/template.yaml: the locked
# runtime dependencies as Linux x86_64 wheels for Lambda's python3.12, plus src/lambdas without
# the command line and the migrations (they need the cli/migrations extras, which are not packed).
#   sam build                 runs it through infra/Makefile (docs/deploy.md); alone: infra/build.sh
# Works from any machine with uv (no Docker, no local Python 3.12 needed); the zip is reproducible.
set -euo pipefail
cd "$(dirname "$0")/.."

build="${BUILD_DIR:-build}"  # BUILD_DIR=/elsewhere builds there instead
out="$build/lambda"
artifact="$build/lambda.zip"
rm -rf "$out" "$artifact"
mkdir -p "$out"

# 1. Exactly the versions in uv.lock, the project's own dependencies only: no extras (typer, rich,
#    alembic, the emulator's starlette and uvicorn), no dev group. boto3 and what it pulls in are
#    left to the python3.12 runtime, which provides them.
runtime_provided=(boto3 botocore s3transfer jmespath urllib3 python-dateutil six)
uv export --frozen --no-dev --no-hashes --no-emit-project --format requirements-txt \
  "${runtime_provided[@]/#/--no-emit-package=}" --output-file "$build/requirements.txt" --quiet

# 2. Wheels for the Lambda platform, whatever platform builds. manylinux2014 (glibc 2.17) wheels
#    run on Lambda's Amazon Linux 2023; source builds are refused so nothing compiles for the host.
uv pip install --quiet --target "$out" --python-platform x86_64-manylinux2014 \
  --python-version 3.12 --only-binary :all: -r "$build/requirements.txt"

# 3. Our package, without caches, the command line or the migrations (no handler imports them).
cp -R src/lambdas "$out/lambdas"
rm -rf "$out/lambdas/cli" "$out/lambdas/migrations" "$out/lambdas/__main__.py"
find "$out" -name __pycache__ -type d -prune -exec rm -rf {} +

# 4. Bytecode from a Python 3.12 (PYTHON312=/path/to/python3.12 names one; else uv's, one on
#    PATH, pyenv's, or one `uv python install 3.12` fetches): /var/task is read-only, so without
#    it every cold start compiles pydantic, SQLAlchemy and boto3 again, and the zip would not be
#    the one the docs measure. No 3.12 fails the build; ALLOW_NO_BYTECODE=1 ships without it, on
#    purpose. Hash-based .pyc keep the zip reproducible.
find_python312() {
  local found candidates
  if [ -n "${PYTHON312:-}" ]; then
    candidates=("$PYTHON312")  # named: that one or none
  else
    candidates=("$(uv python find 3.12 2>/dev/null)" "$(command -v python3.12 2>/dev/null)"
      "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3.12)
  fi
  for found in "${candidates[@]}"; do
    if [ -n "$found" ] && [ -x "$found" ] && "$found" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
      echo "$found"
      return 0
    fi
  done
  return 1
}
if ! python312="$(find_python312)" && [ -z "${PYTHON312:-}" ]; then
  uv python install 3.12 >&2 2>/dev/null || true
  python312="$(find_python312)" || python312=""
fi
if [ -n "${python312:-}" ]; then
  "$python312" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$out" >/dev/null
elif [ "${ALLOW_NO_BYTECODE:-}" = 1 ]; then
  echo "build.sh: no Python 3.12; shipping WITHOUT bytecode (ALLOW_NO_BYTECODE=1)" >&2
else
  echo "build.sh: no Python 3.12 for the bytecode Lambda needs (PYTHON312, uv, PATH, pyenv" \
    "or \`uv python install 3.12\`); name one with PYTHON312=/path/to/python3.12, or set ALLOW_NO_BYTECODE=1 to ship" \
    "without bytecode (every cold start then compiles its imports)" >&2
  exit 1
fi

# 5. A deterministic zip: sorted entries, fixed timestamps, so unchanged code means an unchanged
#    artifact and `sam deploy` has nothing to update.
uv run --no-sync python - "$out" "$artifact" <<'PY'
import os, sys, zipfile
root, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            info = zipfile.ZipInfo(os.path.relpath(path, root), date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as handle:
                archive.writestr(info, handle.read())
PY

echo "built $artifact ($(du -h "$artifact" | cut -f1) zipped, $(du -sh "$out" | cut -f1) unzipped)"
