# Idle processes for the benchmarks that measure the machine's own tasks
# (bench/recorder, bench/criterion-report). Sourced, not run:
#
#   source bench/idle.sh
#   idle_build DIR          # compiles spawn_idle.c into DIR
#   idle_start N            # N idle processes; returns once they exist
#   idle_stop               # they go (also on the caller's EXIT trap)
#   idle_restore            # kernel.pid_max and threads-max as they were
#
# spawn_idle's stdin is a FIFO held open here: when it closes (idle_stop, or
# the script dying) spawn_idle kills its whole process group. When N more
# tasks would not fit under kernel.pid_max or threads-max, both are raised
# first; idle_restore puts them back.

idle_dir=""
idle_pid=""
idle_fd=""
idle_old_pid_max=""
idle_old_threads_max=""

idle_build() {
	idle_dir=$1
	gcc -O2 -Wall -pthread -o "$idle_dir/spawn_idle" "$(dirname "${BASH_SOURCE[0]}")/spawn_idle.c"
}

idle_tasks() { awk '{ split($4, a, "/"); print a[2] }' /proc/loadavg; }

# Raises kernel.pid_max and threads-max so that N more tasks fit with room
# to spare (other work keeps forking meanwhile).
idle_make_room() {
	local want=$(($(idle_tasks) + $1 + 4096)) pid_max threads_max
	pid_max=$(cat /proc/sys/kernel/pid_max)
	threads_max=$(cat /proc/sys/kernel/threads-max)
	if ((want > pid_max)); then
		[[ -n $idle_old_pid_max ]] || idle_old_pid_max=$pid_max
		echo "$want" >/proc/sys/kernel/pid_max
	fi
	if ((want > threads_max)); then
		[[ -n $idle_old_threads_max ]] || idle_old_threads_max=$threads_max
		echo "$want" >/proc/sys/kernel/threads-max
	fi
}

idle_start() {
	local n=$1 i
	((n > 0)) || return 0
	idle_make_room "$n"
	rm -f "$idle_dir/in" "$idle_dir/ready"
	mkfifo "$idle_dir/in"
	setsid "$idle_dir/spawn_idle" "$n" 1 <"$idle_dir/in" >"$idle_dir/ready" 2>&1 &
	idle_pid=$!
	exec {idle_fd}>"$idle_dir/in"
	rm "$idle_dir/in"
	for ((i = 0; i < 3000; i++)); do
		grep -qs '^ready$' "$idle_dir/ready" && return 0
		kill -0 "$idle_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "spawn_idle $n did not get ready: $(cat "$idle_dir/ready" 2>/dev/null)" >&2
	return 1
}

idle_stop() {
	[[ -n $idle_pid ]] || return 0
	if [[ -n $idle_fd ]]; then
		exec {idle_fd}>&-
		idle_fd=""
	fi
	kill -KILL -- "-$idle_pid" 2>/dev/null || true
	wait "$idle_pid" 2>/dev/null || true
	idle_pid=""
}

idle_restore() {
	if [[ -n $idle_old_pid_max ]]; then
		echo "$idle_old_pid_max" >/proc/sys/kernel/pid_max || true
		idle_old_pid_max=""
	fi
	if [[ -n $idle_old_threads_max ]]; then
		echo "$idle_old_threads_max" >/proc/sys/kernel/threads-max || true
		idle_old_threads_max=""
	fi
}
