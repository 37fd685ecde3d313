# sourced
