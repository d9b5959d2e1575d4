"""Render every Kustomize overlay and validate each object strictly, offline.

    .venv-infra/bin/python infra/validate_manifests.py [--out DIR]

Kubernetes' own kinds are checked by kubernetes-validate (schemas shipped in the package) in
strict mode, against the Kubernetes version that Terraform deploys (variable
`kubernetes_version` in infra/terraform/variables.tf). ServiceMonitor, PrometheusRule,
NodePool, EC2NodeClass and ExternalSecret are checked against infra/schemas/. A kind known to
neither fails. With --out, the rendered overlays are written there (infra/check.sh scans them
with checkov).

Runs in the infra virtual environment (infra/requirements-check.txt), not the application's.
"""

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2  # type: ignore[import-not-found, unused-ignore]
import jsonschema  # type: ignore[import-untyped, unused-ignore]
import kubernetes_validate  # type: ignore[import-not-found, unused-ignore]
import yaml

INFRA = Path(__file__).resolve().parent
OVERLAYS = INFRA / "k8s" / "overlays"
SCHEMAS = INFRA / "schemas"
CUSTOM_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring-v1.json",
    ("karpenter.sh/v1", "NodePool"): "nodepool-karpenter-v1.json",
    ("karpenter.k8s.aws/v1", "EC2NodeClass"): "ec2nodeclass-karpenter-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrule-monitoring-v1.json",
    ("external-secrets.io/v1", "ExternalSecret"): "externalsecret-external-secrets-v1.json",
}


def kubernetes_version() -> str:
    with (INFRA / "terraform" / "variables.tf").open() as handle:
        parsed = hcl2.load(handle)
    for block in parsed["variable"]:
        if "kubernetes_version" in block:
            default = block["kubernetes_version"]["default"]
            # python-hcl2 8 wraps attribute values in a list.
            version = str(default[0] if isinstance(default, list) else default).strip('"')
            return version if version.count(".") == 2 else f"{version}.0"
    raise SystemExit("variables.tf has no kubernetes_version")


def kustomize_command() -> list[str]:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    raise SystemExit("SKIP-NEEDED: neither kustomize nor kubectl is installed")


def render(overlay: Path) -> list[dict[str, Any]]:
    output = subprocess.run(
        [*kustomize_command(), str(overlay)], check=True, capture_output=True, text=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def validate(obj: dict[str, Any], version: str) -> list[str]:
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    if key in CUSTOM_SCHEMAS:
        schema = json.loads((SCHEMAS / CUSTOM_SCHEMAS[key]).read_text())
        validator = jsonschema.Draft7Validator(schema)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator.iter_errors(obj)
        ]
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'/'.join(map(str, error.path)) or '(root)'}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema for {key[0]} {key[1]} in Kubernetes {version} nor in infra/schemas"]
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, help="write each rendered overlay here")
    args = parser.parse_args()
    version = kubernetes_version()
    failures = 0
    for overlay in sorted(p for p in OVERLAYS.iterdir() if (p / "kustomization.yaml").exists()):
        objects = render(overlay)
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{overlay.name}.yaml").write_text(yaml.safe_dump_all(objects))
        for obj in objects:
            name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
            for problem in validate(obj, version):
                failures += 1
                print(f"FAIL {overlay.name}: {name}: {problem}")
        print(f"overlay {overlay.name}: {len(objects)} objects checked (Kubernetes {version})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
