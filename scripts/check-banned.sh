#!/usr/bin/env bash
# STYLE.md section 4: functions that are banned in this codebase (curl's
# checksrc). Fails the build when one appears in src/ or tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
pat='\b(strcpy|strcat|sprintf|vsprintf|gets|strtok|atoi|atol|atoll|sscanf)[[:space:]]*\('
if out=$(find src tests -name '*.[ch]' -print0 | xargs -0 -r grep -nEH "$pat" | grep -v 'banned-ok'); then
  echo "banned functions used (STYLE.md section 4):" >&2
  echo "$out" >&2
  exit 1
fi
echo "lint: no banned functions"
