#!/usr/bin/env bash
# The bash hook framework. A hook sources this file (`/shell_lib.sh` in the operator image, or
# operator/addon_operator/frameworks/shell_lib.sh in a checkout), defines `__config__` and its
# handlers, and ends with `hook::run "$@"`:
#
#   source /shell_lib.sh
#   function __config__() { cat <<YAML ... YAML; }
#   function __on_kubernetes::pods::added() { context::get object.metadata.name; }
#   hook::run "$@"
#
# It switches bash to strict mode (a failing command fails the hook), prints a backtrace on
# errors, and sources the framework files: hook.sh (dispatch), context.sh (binding context),
# values.sh (values and values patches).

set -Eeuo pipefail
shopt -s inherit_errexit failglob

function shell_lib::_backtrace() {
  local status=$1 command=$2 depth
  # A failed handler subshell (hook.sh) has printed its own backtrace already.
  if [[ "${command}" == '( "${handler}" )' ]]; then return 0; fi
  printf 'ERROR: `%s` exited with status %s\n' "$command" "$status" >&2
  for (( depth = 1; depth < ${#FUNCNAME[@]}; depth++ )); do
    printf '  at %s (%s:%s)\n' "${FUNCNAME[depth]}" "${BASH_SOURCE[depth]}" \
      "${BASH_LINENO[depth - 1]}" >&2
  done
}
trap 'shell_lib::_backtrace "$?" "$BASH_COMMAND"' ERR

# The image ships /shell_lib.sh next to /frameworks/shell; the source tree keeps shell/ here.
__shell_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ -d "${__shell_lib_dir}/frameworks/shell" ]]; then
  __shell_lib_dir="${__shell_lib_dir}/frameworks/shell"
else
  __shell_lib_dir="${__shell_lib_dir}/shell"
fi
for __shell_lib_file in "${__shell_lib_dir}"/*.sh; do
  # shellcheck source=/dev/null
  source "${__shell_lib_file}"
done
unset __shell_lib_dir __shell_lib_file
