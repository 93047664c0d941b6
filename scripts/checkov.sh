#!/usr/bin/env bash
# The infrastructure scanner a security team runs: Checkov (PyPI `checkov`, pinned, in its own
# virtual environment: scripts/tools.sh) on template.yaml, every CloudFormation check (SAM's
# transform included, which Checkov expands itself). The build fails on any failed check, on a
# template Checkov cannot parse, and on a skipped check without its reason. A check the stack
# does not meet is skipped in the resource's own Metadata (`checkov: skip: - id, comment`);
# docs/operations.md, "Security scanner decisions", lists every decision.
# Skipping in Metadata: https://www.checkov.io/2.Basics/Suppressing%20and%20Skipping%20Policies.html
# Usage: scripts/checkov.sh [TEMPLATE]   (default template.yaml)
set -euo pipefail
template=$(realpath "${1:-$(dirname "$0")/../template.yaml}")
cd "$(dirname "$0")/.."
source scripts/tools.sh

bin=$(tool_venv checkov 'checkov==3.3.30')
results=$(mktemp)
trap 'rm -f "$results"' EXIT
# --skip-download: the checks that ship with Checkov, nothing fetched from a platform. Checkov's
# own exit status is not used: the summary below decides.
"$bin/checkov" --framework cloudformation --file "$template" --skip-download --output json \
  >"$results" || true

"$bin/python" - "$results" "$(basename "$template")" <<'PY'
import json
import sys

raw = open(sys.argv[1], encoding="utf-8").read()
try:
    report = json.loads(raw)
except json.JSONDecodeError:
    sys.exit(f"checkov gave no JSON report:\n{raw[:2000]}")
if isinstance(report, list):  # one report per framework; only cloudformation runs
    report = next((r for r in report if r.get("check_type") == "cloudformation"), {})
results = report.get("results") or {}
summary = report.get("summary") or {}
passed = results.get("passed_checks", [])
failed = results.get("failed_checks", [])
skipped = results.get("skipped_checks", [])
unparsed = results.get("parsing_errors", []) or summary.get("parsing_errors") or []

name = sys.argv[2]
print(f"checkov {summary.get('checkov_version', '?')} on {name}: "
      f"{len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped "
      f"({summary.get('resource_count', '?')} resources)")
problems = []
for c in failed:
    lines = c.get("file_line_range") or ["?", "?"]
    print(f"FAILED {c['check_id']} {c['resource']} ({name}:{lines[0]}-{lines[1]}): {c['check_name']}")
    problems.append(c["check_id"])
for c in sorted(skipped, key=lambda c: (c["check_id"], c["resource"])):
    reason = ((c.get("check_result") or {}).get("suppress_comment") or "").strip()
    print(f"skipped {c['check_id']} {c['resource']}: {reason or '(NO REASON GIVEN)'}")
    if not reason or reason == "No comment provided":
        problems.append(f"{c['check_id']} on {c['resource']} is skipped without a reason")
if unparsed:
    problems.append(f"checkov could not parse: {unparsed}")
if not passed and not failed:
    problems.append(f"checkov ran no check on {name}")
if problems:
    sys.exit(f"checkov: {len(failed)} failed check(s); " + "; ".join(str(p) for p in problems))
PY
