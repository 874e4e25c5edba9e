# server-lib.sh - what nginx.sh and sshd.sh share; sourced after setting
# $name (the server's name in messages) and, before running_pid/stop_server,
# $dir, $pidfile and $marker (a string the server's command line holds).

die() {
	echo "$name.sh: $*" >&2
	exit 1
}

# the PID recorded in $pidfile if that process is still our server (its command
# line holds $marker), else nothing
running_pid() {
	local pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile" 2>/dev/null) || return 0
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
		echo "$pid"
	fi
}

# N free TCP ports of 127.0.0.1, below the ephemeral range
free_ports() {
	local n=$1 used=" " picked=() p hex
	# every local TCP port in use, any state, IPv4 and IPv6 (no dependency on ss or netstat)
	for hex in $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$2 ~ /:/ {split($2, a, ":"); print a[2]}'); do
		used+="$((16#$hex)) "
	done
	while [ ${#picked[@]} -lt "$n" ]; do
		p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768-60999)
		[[ $used == *" $p "* ]] && continue
		[[ " ${picked[*]} " == *" $p "* ]] && continue
		picked+=("$p")
	done
	echo "${picked[@]}"
}

# stops our server: TERM to its PID only, KILL (it and its children) after 10 s
stop_server() {
	local pid
	pid=$(running_pid)
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		[ -d "/proc/$pid" ] || return 0
		sleep 0.1
	done
	pkill -KILL -P "$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
	die "$name (PID $pid) did not stop within 10 s; killed"
}
