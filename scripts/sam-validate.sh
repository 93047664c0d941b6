#!/usr/bin/env bash
# The template and the API description, checked without an AWS account: cfn-lint, `sam validate
# --lint` (AWS SAM CLI from PyPI, in its own virtual environment), openapi.yaml against the
# OpenAPI 3.1 schema, and the routes of template.yaml against the operations of openapi.yaml
# (the same set, both ways).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/tools.sh
ensure_sam

echo "== cfn-lint template.yaml"
if command -v cfn-lint >/dev/null 2>&1; then
  cfn-lint template.yaml
else
  "$SAM_PYTHON" -m cfnlint template.yaml
fi

echo "== sam validate --lint"
# No AWS account is needed; the region only has to be a real one.
AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-north-1}" AWS_REGION="${AWS_REGION:-eu-north-1}" \
  "$SAM" validate --lint --template-file template.yaml

echo "== openapi.yaml: OpenAPI 3.1, and the same routes as template.yaml"
"$SAM_PYTHON" - <<'PY'
import sys

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename


class CfnLoader(yaml.SafeLoader):
    pass


CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)

spec, _ = read_from_filename("openapi.yaml")
validate(spec)
documented = {
    (method.upper(), path)
    for path, item in spec["paths"].items()
    for method in item
    if method in ("get", "put", "post", "delete", "patch", "head", "options")
}
template = yaml.load(open("template.yaml", encoding="utf-8"), Loader=CfnLoader)
routed = {
    tuple(r["Properties"]["RouteKey"].split(" ", 1))
    for r in template["Resources"].values()
    if r.get("Type") == "AWS::ApiGatewayV2::Route"
}


def normal(routes):
    # Path parameter names may differ; their places may not.
    import re
    return {(m, re.sub(r"\{[^}]+\}", "{}", p)) for m, p in routes}


problems = []
for m, p in sorted(normal(routed) - normal(documented)):
    problems.append(f"routed in template.yaml but not in openapi.yaml: {m} {p}")
for m, p in sorted(normal(documented) - normal(routed)):
    problems.append(f"in openapi.yaml but not routed in template.yaml: {m} {p}")
if problems:
    sys.exit("\n".join(problems))
print(f"openapi.yaml is valid OpenAPI 3.1; its {len(documented)} operations are the template's {len(routed)} routes")
PY
