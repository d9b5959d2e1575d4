#!/usr/bin/env bash
# Offline checks of the deployment files (infra/), run by .ci/run and by hand:
#   1. shellcheck on every shell script of the repository;
#   2. terraform fmt -check -recursive, and a python-hcl2 parse of every .tf file;
#   3. terraform validate of each module whose providers are all in a local filesystem mirror
#      (never downloaded), and `terraform test` (mocked providers: plans, no account) of those
#      with a tests/ folder; the others are skipped, saying which provider is missing;
#   4. every Kustomize overlay rendered and validated strictly against the Kubernetes version
#      Terraform deploys, custom resources against infra/schemas/;
#   5. checkov on the Terraform, the rendered manifests and the Dockerfile; hadolint on every
#      Dockerfile.
# The tools live in .venv-infra/ (infra/requirements-check.txt, pinned by
# infra/requirements-check.lock): checkov's dependencies conflict with the application's.
# A missing terraform or kubectl binary skips its step with a message; everything else failing
# fails the script. Exit status 0 only when every step that ran passed.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-infra
PY="$VENV/bin/python"
STAMP="$VENV/.hearus-infra-installed"
# Where Terraform providers may be found without the internet (the first that exists is used).
PLUGIN_MIRRORS=("${TF_PLUGIN_MIRROR:-}" "$HOME/.terraform.d/plugins" /opt/tf-plugins \
  /usr/share/terraform/plugins /usr/local/share/terraform/plugins)

failed=()
skipped=()
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { echo "FAILED: $*"; failed+=("$*"); }
skip() { echo "SKIPPED: $*"; skipped+=("$*"); }

ensure_venv() {
  local wanted
  wanted=$(cat infra/requirements-check.txt infra/requirements-check.lock | sha256sum | cut -d' ' -f1)
  if [ -x "$PY" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then return; fi
  echo "Installing the check tools into $VENV/"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check \
    -c infra/requirements-check.lock -r infra/requirements-check.txt
  echo "$wanted" > "$STAMP"
}

check_shell() {
  step "shellcheck"
  local scripts=()
  while IFS= read -r -d '' file; do scripts+=("$file"); done < <(
    git ls-files -z --cached --others --exclude-standard -- '*.sh' '.ci/run')
  if "$VENV/bin/shellcheck" --severity=style "${scripts[@]}"; then
    echo "ok: ${scripts[*]}"
  else
    fail "shellcheck"
  fi
}

check_terraform_format() {
  step "terraform fmt and HCL parse"
  if command -v terraform >/dev/null; then
    TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -recursive -diff infra/terraform || fail "terraform fmt (run: terraform fmt -recursive infra/terraform)"
  else
    skip "terraform fmt: no terraform binary on this machine (the HCL parse below still runs)"
  fi
  "$PY" - <<'EOF' || fail "HCL parse"
import pathlib, sys
import hcl2
bad = 0
files = sorted(pathlib.Path("infra/terraform").rglob("*.tf"))
for path in files:
    try:
        with path.open() as handle:
            hcl2.load(handle)
    except Exception as error:  # any parse error names the file
        bad += 1
        print(f"{path}: {error}")
print(f"parsed {len(files) - bad}/{len(files)} .tf files")
sys.exit(1 if bad else 0)
EOF
}

plugin_mirror() {
  local dir
  for dir in "${PLUGIN_MIRRORS[@]}"; do
    if [ -n "$dir" ] && [ -d "$dir/registry.terraform.io" ]; then echo "$dir"; return; fi
  done
}

check_terraform_validate() {
  step "terraform validate (providers from a local mirror only)"
  if ! command -v terraform >/dev/null; then
    skip "terraform validate: no terraform binary on this machine"
    return
  fi
  local mirror
  mirror=$(plugin_mirror)
  if [ -z "$mirror" ]; then
    skip "terraform validate: no local provider mirror (looked in ${PLUGIN_MIRRORS[*]})"
    return
  fi
  local module providers missing provider work
  while IFS= read -r module; do
    providers=$("$PY" - "$module" <<'EOF'
import pathlib, sys
import hcl2
names = set()
for path in pathlib.Path(sys.argv[1]).glob("*.tf"):
    with path.open() as handle:
        for block in hcl2.load(handle).get("terraform", []):
            for required in block.get("required_providers", []):
                for spec in required.values():
                    spec = spec[0] if isinstance(spec, list) else spec
                    names.add(str(spec["source"]).strip('"'))
print(" ".join(sorted(names)))
EOF
)
    missing=()
    for provider in $providers; do
      [[ "$provider" == */*/* ]] || provider="registry.terraform.io/$provider"
      [ -d "$mirror/$provider" ] || missing+=("$provider")
    done
    if [ ${#missing[@]} -gt 0 ]; then
      skip "terraform validate $module: ${missing[*]} not in the local mirror $mirror"
      continue
    fi
    # Validate a copy, so that nothing (.terraform/, the lock file) is written into the tree.
    work=$(mktemp -d)
    cp -r "$module"/. "$work"
    if (cd "$work" && TF_CLI_CONFIG_FILE=/dev/null TF_DATA_DIR="$work/.terraform" \
          terraform init -backend=false -input=false -no-color -plugin-dir="$mirror" >/dev/null \
        && TF_CLI_CONFIG_FILE=/dev/null TF_DATA_DIR="$work/.terraform" \
          terraform validate -no-color); then
      echo "ok: $module (providers: $providers)"
    else
      fail "terraform validate $module"
    fi
    if [ -d "$work/tests" ]; then
      if (cd "$work" && TF_CLI_CONFIG_FILE=/dev/null TF_DATA_DIR="$work/.terraform" \
            terraform test -no-color); then
        echo "ok: terraform test $module"
      else
        fail "terraform test $module"
      fi
    fi
    rm -rf "$work"
  done < <(find infra/terraform -name '*.tf' -not -path '*/.terraform/*' -printf '%h\n' | sort -u)
}

check_manifests() {
  step "Kustomize overlays, strict schema validation"
  if ! command -v kubectl >/dev/null && ! command -v kustomize >/dev/null; then
    skip "manifests: neither kubectl nor kustomize is installed, nothing can render the overlays"
    return 1
  fi
  "$PY" infra/validate_manifests.py --out "$RENDERED" || fail "manifest validation"
}

check_security() {
  step "checkov"
  local common=(--quiet --compact --skip-download)
  "$VENV/bin/checkov" "${common[@]}" -d infra/terraform --framework terraform \
    || fail "checkov terraform"
  "$VENV/bin/checkov" "${common[@]}" -f infra/docker/Dockerfile --framework dockerfile \
    || fail "checkov Dockerfile"
  if [ -n "$(ls -A "$RENDERED" 2>/dev/null)" ]; then
    "$VENV/bin/checkov" "${common[@]}" --config-file infra/checkov-kubernetes.yaml \
      -d "$RENDERED" --framework kubernetes || fail "checkov kubernetes"
  else
    skip "checkov kubernetes: the overlays could not be rendered"
  fi
}

check_dockerfiles() {
  step "hadolint"
  local files=()
  while IFS= read -r -d '' file; do files+=("$file"); done < <(
    git ls-files -z --cached --others --exclude-standard -- 'infra/docker/Dockerfile*')
  if "$VENV/bin/hadolint" "${files[@]}"; then
    echo "ok: ${files[*]}"
  else
    fail "hadolint"
  fi
}

ensure_venv
RENDERED=$(mktemp -d)
trap 'rm -rf "$RENDERED"' EXIT
check_shell
check_terraform_format
check_terraform_validate
check_manifests || true
check_security
check_dockerfiles

step "summary"
for item in "${skipped[@]}"; do echo "skipped: $item"; done
if [ ${#failed[@]} -gt 0 ]; then
  for item in "${failed[@]}"; do echo "failed: $item"; done
  exit 1
fi
echo "infra checks passed"
