#!/usr/bin/env bash
# Fails when a tracked C++ file is not formatted as .clang-format says.
# Fix with: git ls-files '*.cc' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(git ls-files '*.cc' '*.h' | while read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
done)
if [ -n "$bad" ]; then
  echo "not clang-formatted (run: git ls-files '*.cc' '*.h' | xargs clang-format -i):"
  echo "$bad"
  exit 1
fi
echo "format: every C++ file is clang-formatted"
