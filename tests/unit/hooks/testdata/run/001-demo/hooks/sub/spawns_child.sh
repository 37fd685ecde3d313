#!/usr/bin/env bash
# Hangs with a child process in the background, to check that a timeout kills both.
sleep 30 &
echo "$!" > "$OBSERVE_DIR/child.pid"
echo "working" >&2
wait
