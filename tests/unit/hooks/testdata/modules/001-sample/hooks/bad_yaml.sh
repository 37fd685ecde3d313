#!/usr/bin/env bash
# A hook that prints broken YAML on --config (an unclosed flow sequence on line 3).
cat <<'YAML'
configVersion: v1
kubernetes:
- {name: pods, kind: [Pod
YAML
