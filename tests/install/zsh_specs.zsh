# zsh -f tests/install/zsh_specs.zsh FILE TOOL WORDS...: what the completion function in FILE
# hands zsh's completion system for the command line WORDS (the cursor on the last word), with
# _arguments and _describe stubbed to print their specs, so it runs without a terminal.
_arguments() { print -rl -- "$@" }
_describe() { print -rl -- "${(@P)4}" }
_grey_specs() {
    local file=$1 service=$2
    shift 2
    local -a words
    words=("$@")
    local CURRENT=$#words
    source $file
}
_grey_specs "$@"
