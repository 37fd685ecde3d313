#!/usr/bin/env bash
# Dispatching a hook run to the handler functions the hook defines; sourced by shell_lib.sh.
#
# `hook::run "$@"` prints the hook's configuration (`__config__`) when called with --config.
# Otherwise it walks every element of the binding context array (runs may combine several),
# exports BINDING_CONTEXT_CURRENT_INDEX and BINDING_CONTEXT_CURRENT_BINDING, and calls, in a
# subshell, the first defined function of this list, then `__main__`:
#
#   onStartup                     __on_startup
#   beforeAll / afterAll          __on_before_all / __on_after_all
#   beforeHelm / afterHelm        __on_before_helm / __on_after_helm
#   beforeDeleteHelm / afterDeleteHelm
#                                 __on_before_delete_helm / __on_after_delete_helm
#   Synchronization               __on_kubernetes::<binding>::synchronization,
#                                 __on_kubernetes::<binding>
#   Event Added / Modified        __on_kubernetes::<binding>::added|modified,
#                                 __on_kubernetes::<binding>::added_or_modified,
#                                 __on_kubernetes::<binding>
#   Event Deleted                 __on_kubernetes::<binding>::deleted, __on_kubernetes::<binding>
#   Group                         __on_group::<groupName>
#   Schedule (or no type)         __on_schedule::<binding>
#   Validating / Mutating         __on_validating::<binding> / __on_mutating::<binding>
#   Conversion                    __on_conversion::<binding>::<from>::<to> ("/" becomes "."),
#                                 __on_conversion::<binding>
#
# A context with no matching function fails the run with the list of names it looked for.

function hook::run() {
  if [[ "${1:-}" == "--config" ]]; then
    __config__
    exit 0
  fi
  local plan index binding handlers
  plan=$(hook::_plan)
  # The plan is read on fd 3, so handlers reading stdin cannot swallow it.
  while IFS=$'\t' read -r -u 3 index binding handlers; do
    [[ -n "${index}" ]] || continue  # an empty context array
    export BINDING_CONTEXT_CURRENT_INDEX=${index}
    export BINDING_CONTEXT_CURRENT_BINDING=${binding}
    # shellcheck disable=SC2086  # one handler name per word
    hook::_run_first_defined ${handlers} __main__
  done 3<<<"${plan}"
}

# One line per context, from a single jq run: index, binding and the handler names to try,
# most specific first, separated by tabs (the names by spaces).
function hook::_plan() {
  context::global::jq -r '
    def handlers:
      .binding as $b
      | if has("type") | not then
          { onStartup: "__on_startup",
            beforeAll: "__on_before_all", afterAll: "__on_after_all",
            beforeHelm: "__on_before_helm", afterHelm: "__on_after_helm",
            beforeDeleteHelm: "__on_before_delete_helm",
            afterDeleteHelm: "__on_after_delete_helm" }[$b] // "__on_schedule::\($b)"
        elif .type == "Synchronization" then
          "__on_kubernetes::\($b)::synchronization", "__on_kubernetes::\($b)"
        elif .type == "Event" then
          (.watchEvent | ascii_downcase) as $event
          | "__on_kubernetes::\($b)::\($event)",
            (select($event != "deleted") | "__on_kubernetes::\($b)::added_or_modified"),
            "__on_kubernetes::\($b)"
        elif .type == "Group" then "__on_group::\(.groupName)"
        elif .type == "Schedule" then "__on_schedule::\($b)"
        elif .type == "Validating" then "__on_validating::\($b)"
        elif .type == "Mutating" then "__on_mutating::\($b)"
        elif .type == "Conversion" then
          "__on_conversion::\($b)::\(.fromVersion | gsub("/"; "."))::\(.toVersion | gsub("/"; "."))",
          "__on_conversion::\($b)"
        else empty end;
    to_entries[]
    | .value.binding = (.value.binding // "unknown")
    | "\(.key)\t\(.value.binding)\t\([.value | handlers] | join(" "))"'
}

function hook::_run_first_defined() {
  local handler
  for handler in "$@"; do
    if declare -F "${handler}" >/dev/null; then
      # A subshell keeps handlers apart; no `||` here: it would switch off errexit inside.
      ( "${handler}" )
      return 0
    fi
  done
  printf 'ERROR: binding context %s (binding %s): no handler defined; looked for: %s\n' \
    "${BINDING_CONTEXT_CURRENT_INDEX}" "${BINDING_CONTEXT_CURRENT_BINDING}" "$*" >&2
  return 1
}
