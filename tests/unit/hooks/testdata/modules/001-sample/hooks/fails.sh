#!/usr/bin/env bash
# A hook whose --config run fails.
echo "starting" >&2
echo "cannot read settings: permission denied" >&2
exit 3
