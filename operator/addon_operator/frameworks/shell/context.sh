#!/usr/bin/env bash
# Reading the binding context ($BINDING_CONTEXT_PATH, a JSON array) from bash hooks; sourced by
# shell_lib.sh. `hook::run` sets BINDING_CONTEXT_CURRENT_INDEX before calling a handler, and
# these functions read that element:
#
#   context::jq [jq args...] FILTER    jq on the current context
#   context::global::jq [jq args...]   jq on the whole array
#   context::get [--required] PATH     the value at PATH (raw strings; `null` when absent)
#   context::has PATH                  status 0 when PATH exists
#   context::is_true / is_false / is_null PATH
#
# PATH is dot-separated: `object.metadata.name`, `objects.0.object`, and a key holding dots or
# other characters is quoted: `object.metadata.labels."app.kubernetes.io/name"` (or '...').
# The jq definitions below are shared with values.sh.

__SHELL_LIB_JQ_DEFS='
def _shell_lib_path($user_path):
  [ $user_path | scan("\"[^\"]*\"|\u0027[^\u0027]*\u0027|[^.]+")
    | if test("^[\"\u0027]") then .[1:-1] elif test("^[0-9]+$") then tonumber else . end ];
def _shell_lib_get($path):
  reduce $path[] as $key (.;
    if . == null then null
    elif type == "object" then .[$key | tostring]
    elif type == "array" and ($key | type) == "number" then .[$key]
    else error("cannot read key \($key | tojson) of \(type)") end);
def _shell_lib_has($path):
  ($path | length) == 0 or
  (try (_shell_lib_get($path[:-1]) as $parent | $path[-1] as $key
        | if ($parent | type) == "object" then $parent | has($key | tostring)
          elif ($parent | type) == "array" and ($key | type) == "number"
            then $key < ($parent | length)
          else false end)
   catch false);
def _shell_lib_pointer($path):
  $path | map(tostring | gsub("~"; "~0") | gsub("/"; "~1")) | "/" + join("/");
'

# shell_lib::jq_at USER_PATH COMMAND [ARGS...] EXPRESSION
# Runs COMMAND ARGS with the definitions above and EXPRESSION, where $path is USER_PATH as a
# jq path array.
function shell_lib::jq_at() {
  local user_path=$1
  shift
  local expression=${*: -1}
  "${@:1:$#-1}" --arg user_path "${user_path}" \
    "${__SHELL_LIB_JQ_DEFS} _shell_lib_path(\$user_path) as \$path | ${expression}"
}

function context::global::jq() {
  jq "$@" "${BINDING_CONTEXT_PATH}"
}

function context::jq() {
  context::global::jq -c --argjson index "${BINDING_CONTEXT_CURRENT_INDEX:-0}" '.[$index]' \
    | jq "$@"
}

# context::_at USER_PATH [JQ_ARGS...] EXPRESSION: EXPRESSION on the current context, one jq run.
function context::_at() {
  local user_path=$1
  shift
  shell_lib::jq_at "${user_path}" context::global::jq \
    --argjson index "${BINDING_CONTEXT_CURRENT_INDEX:-0}" "${@:1:$#-1}" ".[\$index] | ${*: -1}"
}

function context::get() {
  if [[ "${1:-}" == "--required" ]]; then
    shift
    if ! context::has "${1:-}"; then
      printf 'ERROR: binding context %s (binding %s) has no value at "%s"\n' \
        "${BINDING_CONTEXT_CURRENT_INDEX:-0}" "${BINDING_CONTEXT_CURRENT_BINDING:-?}" \
        "${1:-}" >&2
      return 1
    fi
  fi
  context::_at "${1:-}" -r '_shell_lib_get($path)'
}

function context::has() {
  context::_at "${1:-}" -e '_shell_lib_has($path)' >/dev/null
}

function context::is_true() {
  context::_at "${1:-}" -e 'try (_shell_lib_get($path) == true) catch false' >/dev/null
}

function context::is_false() {
  context::_at "${1:-}" -e 'try (_shell_lib_get($path) == false) catch false' >/dev/null
}

function context::is_null() {
  context::_at "${1:-}" -e 'try (_shell_lib_get($path) == null) catch false' >/dev/null
}
