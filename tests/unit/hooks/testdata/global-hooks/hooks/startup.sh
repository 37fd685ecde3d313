#!/usr/bin/env bash
# A global hook with onStartup and beforeAll.
if [[ "${1:-}" == "--config" ]]; then
  printf 'configVersion: v1\nonStartup: 5\nbeforeAll: 10\n'
  exit 0
fi
