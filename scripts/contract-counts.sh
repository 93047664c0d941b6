#!/usr/bin/env bash
# Counts the rows of docs/contracts.md per status (the fourth column of every row whose first
# cell is a row id such as TP-01), and checks that the file cites nothing outside the repository.
set -euo pipefail
file="${1:-$(dirname "$0")/../docs/contracts.md}"
sed 's/\\|/ or /g' "$file" | awk -F'|' '
  $2 ~ /^ *[A-Z][A-Z]-[0-9][0-9] *$/ {
    status = $5; gsub(/[ `]/, "", status); n[status]++; total++
  }
  END {
    for (s in n) printf "%-12s %d\n", s, n[s]
    printf "%-12s %d\n", "total", total
  }
' | sort
if grep -n -E '/work|\.\./shared|SPEC|research/|TT §|PN §|Issue [0-9]' "$file"; then
  echo "docs/contracts.md cites a source outside the repository (above)" >&2
  exit 1
fi
