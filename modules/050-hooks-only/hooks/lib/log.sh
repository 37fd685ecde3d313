# Shared by the hooks of this module (hooks/lib is never run as a hook).
log() { echo "hooks-only: $*"; }
