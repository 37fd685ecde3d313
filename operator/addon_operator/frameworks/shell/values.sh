#!/usr/bin/env bash
# Reading values and writing values patches from bash hooks (addon-operator's values helpers);
# sourced by shell_lib.sh. Every function reads $VALUES_PATH, or $CONFIG_VALUES_PATH when its
# first argument is --config; writes append one JSON patch operation per line to
# $VALUES_JSON_PATCH_PATH (or $CONFIG_VALUES_JSON_PATCH_PATH with --config), so handlers of
# several binding contexts in one run all keep their patches. PATH is written as in context.sh:
# `myModule.internal.certs.0."tls.crt"`.
#
#   values::jq [--config] [jq args...] FILTER
#   values::get [--config] [--required] PATH           the value (raw strings; null if absent)
#   values::has [--config] PATH
#   values::is_true / values::is_false [--config] PATH
#   values::array_has [--config] PATH ITEM             PATH is an array containing ITEM
#   values::get_first_defined [--config] PATH...        the value of the first PATH that exists
#   values::require_in_config PATH                      fails unless the config values have it
#   values::set [--config] PATH VALUE                   `add`; VALUE is JSON, else a string
#   values::unset [--config] PATH                       `remove`, only when PATH exists
#   values::store::replace_row_by_key [--config] PATH KEY ROW
#       replace the element of array PATH whose KEY equals ROW's (remove + add), or append ROW
#   values::store::unset_row_by_key [--config] PATH KEY ROW
#       remove the element of array PATH whose KEY equals ROW's
#
# Reads do not see the patches of the same run: the operator applies them after the hook exits.
# A module's config values are its Module spec; this operator rejects config patches with a
# message (docs/hooks.md, Config values patches are refused), so `--config` writes are for
# compatibility only.

function values::jq() {
  local file=${VALUES_PATH}
  if [[ "${1:-}" == "--config" ]]; then
    file=${CONFIG_VALUES_PATH}
    shift
  fi
  jq "$@" "${file}"
}

# values::_append [--config] USER_PATH JQ_ARGS... EXPRESSION
# Appends the patch operations EXPRESSION outputs to the right patch file; EXPRESSION sees
# $path and $values (the values document, or the config values with --config).
function values::_append() {
  local values=${VALUES_PATH} file=${VALUES_JSON_PATCH_PATH}
  if [[ "${1:-}" == "--config" ]]; then
    values=${CONFIG_VALUES_PATH}
    file=${CONFIG_VALUES_JSON_PATCH_PATH}
    shift
  fi
  local user_path=$1
  shift
  local expression=${*: -1}
  shell_lib::jq_at "${user_path}" jq -nc --slurpfile values "${values}" "${@:1:$#-1}" \
    "(\$values[0]) as \$values | ${expression}" >>"${file}"
}

function values::get() {
  local config=() source='$VALUES_PATH' required=no
  while [[ "${1:-}" == "--config" || "${1:-}" == "--required" ]]; do
    if [[ "$1" == "--config" ]]; then config=(--config) source='$CONFIG_VALUES_PATH'
    else required=yes; fi
    shift
  done
  if [[ "${required}" == "yes" ]] && ! values::has "${config[@]}" "${1:-}"; then
    printf 'ERROR: %s has no value at "%s"\n' "${source}" "${1:-}" >&2
    return 1
  fi
  shell_lib::jq_at "${1:-}" values::jq "${config[@]}" -r '_shell_lib_get($path)'
}

function values::has() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  shell_lib::jq_at "${1:-}" values::jq "${config[@]}" -e '_shell_lib_has($path)' >/dev/null
}

function values::is_true() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  shell_lib::jq_at "${1:-}" values::jq "${config[@]}" -e \
    'try (_shell_lib_get($path) == true) catch false' >/dev/null
}

function values::is_false() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  shell_lib::jq_at "${1:-}" values::jq "${config[@]}" -e \
    'try (_shell_lib_get($path) == false) catch false' >/dev/null
}

function values::array_has() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  shell_lib::jq_at "${1:-}" values::jq "${config[@]}" -e --arg item "${2:-}" \
    'try (_shell_lib_get($path) | type == "array" and any(.[]; . == $item)) catch false' \
    >/dev/null
}

function values::get_first_defined() {
  local config=() candidate
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  for candidate in "$@"; do
    if values::has "${config[@]}" "${candidate}"; then
      values::get "${config[@]}" "${candidate}"
      return 0
    fi
  done
  return 1
}

function values::require_in_config() {
  if ! values::has --config "${1:-}"; then
    printf 'ERROR: "%s" is required in the config values\n' "${1:-}" >&2
    return 1
  fi
}

function values::set() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  values::_append "${config[@]}" "${1:-}" --arg value "${2-}" \
    '{op: "add", path: _shell_lib_pointer($path), value: ($value | try fromjson catch $value)}'
}

function values::unset() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  if values::has "${config[@]}" "${1:-}"; then
    values::_append "${config[@]}" "${1:-}" '{op: "remove", path: _shell_lib_pointer($path)}'
  fi
}

function values::store::replace_row_by_key() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  values::_store_row "${config[@]}" "$@" '
    if $index == null then {op: "add", path: "\($array)/-", value: $row}
    else {op: "remove", path: "\($array)/\($index)"},
         {op: "add", path: "\($array)/\($index)", value: $row} end'
}

function values::store::unset_row_by_key() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  values::_store_row "${config[@]}" "$@" \
    'select($index != null) | {op: "remove", path: "\($array)/\($index)"}'
}

# values::_store_row [--config] PATH KEY ROW EXPRESSION
# Appends the operations of EXPRESSION, which sees $array (the pointer of PATH), $row and
# $index (the first element of PATH whose KEY equals ROW's, or null).
function values::_store_row() {
  local config=()
  if [[ "${1:-}" == "--config" ]]; then config=(--config); shift; fi
  values::_append "${config[@]}" "$1" --arg key "$2" --argjson row "$3" "
    _shell_lib_pointer(\$path) as \$array
    | ([(\$values | _shell_lib_get(\$path) // []) | to_entries[]
        | select(.value[\$key] == \$row[\$key]) | .key] | first) as \$index
    | $4"
}
