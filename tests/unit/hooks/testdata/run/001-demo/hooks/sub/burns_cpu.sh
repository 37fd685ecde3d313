#!/usr/bin/env bash
# Spends a little CPU time in the hook's own process, then exits with $HOOK_EXIT (default 0).
i=0
while (( i < 50000 )); do (( i += 1 )); done
exit "${HOOK_EXIT:-0}"
