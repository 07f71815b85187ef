# SPDX-License-Identifier: MIT
# Bash completion for socktrace: its commands, each command's options and
# their values, all read from socktrace itself (its --help texts and the
# values its error messages list), so they cannot drift from it.

# The socktrace being completed: the one typed, if it runs, else PATH's.
_socktrace_bin()
{
	local b=${COMP_WORDS[0]}
	b=${b/#\~/$HOME}
	[[ -x $b ]] && ! [[ -d $b ]] || b=socktrace
	printf '%s' "$b"
}

# The commands, as 'socktrace --help' lists them.
_socktrace_commands()
{
	"$1" --help 2>/dev/null | sed -n '/^commands:/,/^$/p' |
		sed -n 's/^  \([a-z][a-z]*\) .*/\1/p'
}

# The options of 'socktrace CMD --help' (every -x and --name it names).
_socktrace_options()
{
	"$1" "$2" --help 2>/dev/null |
		grep -oE '(^|[][ ,(])--?[a-zA-Z][a-zA-Z-]*' |
		sed 's/^[][ ,(]//' | sort -u
}

# The values socktrace lists when option $3 of command $2 is given a bad
# one: "expected A, B or C" (or "(A, B, C)").
_socktrace_values()
{
	local msg
	msg=$("$1" "$2" "$3" '?' /nonexistent 2>&1 >/dev/null | head -n 1)
	case $msg in
	*"expected "*"("*) msg=${msg#*expected }; msg=${msg#*\(}
		msg=${msg%%)*} ;;
	*"expected "*) msg=${msg#*expected } ;;
	*"("*")"*) msg=${msg##*\(}; msg=${msg%%)*} ;;
	*) return ;;
	esac
	printf '%s\n' $msg | tr -d ',' | grep -E '^[A-Za-z_]+$' |
		grep -vxE 'or|several|with|commas|a|an|kind|finding'
}

_socktrace()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local bin cmd i
	bin=$(_socktrace_bin)
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$(_socktrace_commands "$bin") --help
			--version" -- "$cur"))
		return
	fi
	cmd=${COMP_WORDS[1]}
	# after run's --: the command to run, then its own arguments
	for ((i = 2; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			if ((i + 1 == COMP_CWORD)); then
				COMPREPLY=($(compgen -c -- "$cur" | sort -u))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done
	case $prev in
	--html | --perfetto)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--pid)
		COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" \
			-- "$cur"))
		return ;;
	--findings)
		COMPREPLY=($(compgen -W "all grouped" -- "$cur"))
		return ;;
	--by)
		COMPREPLY=($(compgen -W "listener peer process" -- "$cur"))
		return ;;
	--state | --finding | --sort)
		COMPREPLY=($(compgen -W "$(_socktrace_values "$bin" \
			"$cmd" "$prev")" -- "$cur"))
		return ;;
	--conn | --port | --top | --duration | --filter | --since | --until | \
	--min-duration | --peer | --listener)
		return ;; # a value only the user knows
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_socktrace_options "$bin" "$cmd")" \
			-- "$cur"))
	elif [[ $cmd == attach || $cmd == detach ]] ||
		[[ $cmd == live && " ${COMP_WORDS[*]} " == *" --attach "* ]]; then
		COMPREPLY=($(compgen -W "$(ls /proc | grep -E '^[0-9]+$')" \
			-- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

complete -o filenames -F _socktrace socktrace
