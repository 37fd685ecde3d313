# sourced by hooks
