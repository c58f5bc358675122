#!/bin/bash
# runc-suite.sh SUITE RUNTIME OUTDIR [FILE.bats ...]: run opencontainers/runc's own integration
# suite (tests/integration/*.bats, tag v1.1.5) against an OCI runtime, one file at a time, and
# print a per-file table (passed, failed, skipped, timed out, not run).
#
#   SUITE    a checkout of runc v1.1.5 prepared outside this repository, with
#            tests/integration/testdata/{busybox,debian}-amd64.tar.xz and the helpers
#            contrib/cmd/{recvtty,sd-helper,seccompagent} built in it (see docs/compatibility.md)
#   RUNTIME  the runtime binary; the suite calls it as "runc" (a symlink of that name), the
#            way oci-rt is installed as a drop-in. oci-rt's help then says "runc"; its version
#            line always says oci-rt (the one deliberate difference).
#   OUTDIR   <file>.log (TAP), results.tsv (one line per test), summary.tsv, table.txt
# env: PER_FILE_TIMEOUT (seconds per file, default 300); RUNTIME_SPEC_GIT (a local clone of
#   opencontainers/runtime-spec that spec.bats' "spec validator" clones instead of GitHub);
#   GOPATH for that test's Go dependencies.
#
# Rootless (env ROOTLESS_USER=name): bats runs as that user (setpriv --reuid/--regid
# --init-groups, env -i, XDG_RUNTIME_DIR=/run/user/<uid>), as runc's tests/rootless.sh does.
#   ROOTLESS_FEATURES  as in runc: "idmap" (the default when unset) or "" (single mapping only:
#            newuidmap, newgidmap, /etc/subuid and /etc/subgid are hidden by bind-mounting
#            /dev/null over them in a private mount namespace, unshare -m; the host's files are
#            not touched, unlike rootless.sh's disable_idmap).
#   The user and its subordinate ids are the CALLER's to create and remove; this script never
#   edits /etc/passwd, /etc/subuid or /etc/subgid. Use a dedicated user: every process of that
#   uid and of its subordinate ids is killed (by pid) before the run and after each file. As in
#   rootless.sh, the user needs two ranges, the same two lines in /etc/subuid and /etc/subgid
#   (e.g. name:500000:65536 and name:600000:65536); the first maps uids, the second gids
#   (ROOTLESS_{UID,GID}MAP_{START,LENGTH} for the suite's idmap tests). The SUITE and RUNTIME
#   must be readable by the user.
#   What rootless adds outside the scratch dir: /run/user/<uid> if missing (0700, removed at
#   the end if this script made it). In the scratch dir: a copy of RUNTIME_SPEC_GIT owned by
#   the user (git refuses a repository of another owner) and, with idmap, cwd.bats' AUX_DIR
#   (0700, owned by container uid AUX_UID=1024 mapped to the host).
#
# As root. Never two runs at once (the suite's cgroup name is fixed). Processes are ended by
# pid; everything the suite leaves (containers, cgroups under runc-cgroups-integration-test,
# mounts, scratch dirs) is removed after each file. This script builds nothing.
set -u

if [ $# -lt 3 ]; then
	echo "usage: $0 SUITE RUNTIME OUTDIR [FILE.bats ...]" >&2
	exit 2
fi
SUITE=$(readlink -f "$1")
INTEG=$SUITE/tests/integration
PER_FILE_TIMEOUT=${PER_FILE_TIMEOUT:-300}
RUNTIME=$(readlink -f "$2") || { echo "no such runtime: $2" >&2; exit 2; }
[ -x "$RUNTIME" ] || { echo "not executable: $RUNTIME" >&2; exit 2; }
OUTDIR=$3
shift 3
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 2; }

# ---- rootless setup -----------------------------------------------------------
ROOTLESS_USER=${ROOTLESS_USER:-}
if [ -n "$ROOTLESS_USER" ]; then
	RL_UID=$(id -u "$ROOTLESS_USER" 2>/dev/null) || { echo "no such user: $ROOTLESS_USER" >&2; exit 2; }
	RL_GID=$(id -g "$ROOTLESS_USER")
	[ "$RL_UID" != 0 ] || { echo "ROOTLESS_USER must not be root" >&2; exit 2; }
	RL_HOME=$(getent passwd "$ROOTLESS_USER" | cut -d: -f6)
	: "${ROOTLESS_FEATURES=idmap}"
	for c in setpriv unshare; do
		command -v "$c" >/dev/null || { echo "missing host command: $c" >&2; exit 2; }
	done
	if [ "${RUNC_SUITE_INNER:-}" != 1 ]; then
		# the user's two subordinate ranges (read before they are hidden below)
		mapfile -t RANGES < <(awk -F: -v u="$ROOTLESS_USER" -v i="$RL_UID" '$1 == u || $1 == i { print $2 " " $3 }' /etc/subuid 2>/dev/null)
		if [ "${#RANGES[@]}" -ge 2 ]; then
			read -r ROOTLESS_UIDMAP_START ROOTLESS_UIDMAP_LENGTH <<<"${RANGES[0]}"
			read -r ROOTLESS_GIDMAP_START ROOTLESS_GIDMAP_LENGTH <<<"${RANGES[1]}"
			for r in "${RANGES[0]}" "${RANGES[1]}"; do
				awk -F: -v u="$ROOTLESS_USER" -v i="$RL_UID" -v r="$r" '($1 == u || $1 == i) && $2 " " $3 == r { f = 1 } END { exit !f }' /etc/subgid ||
					{ echo "/etc/subgid lacks the range ${r/ /:} of $ROOTLESS_USER (same two lines as /etc/subuid)" >&2; exit 2; }
			done
		elif [[ "$ROOTLESS_FEATURES" == *idmap* ]]; then
			echo "ROOTLESS_FEATURES=idmap needs two ranges of $ROOTLESS_USER in /etc/subuid and /etc/subgid" >&2
			exit 2
		else
			ROOTLESS_UIDMAP_START=0 ROOTLESS_UIDMAP_LENGTH=0 ROOTLESS_GIDMAP_START=0 ROOTLESS_GIDMAP_LENGTH=0
		fi
		if [ -z "$ROOTLESS_FEATURES" ]; then
			# single mapping: hide the idmap helpers and the subordinate id files in a
			# private mount namespace, then run this script again in it
			exec unshare -m --propagation private env RUNC_SUITE_INNER=1 ROOTLESS_USER="$ROOTLESS_USER" \
				ROOTLESS_FEATURES= ROOTLESS_UIDMAP_START="$ROOTLESS_UIDMAP_START" \
				ROOTLESS_UIDMAP_LENGTH="$ROOTLESS_UIDMAP_LENGTH" ROOTLESS_GIDMAP_START="$ROOTLESS_GIDMAP_START" \
				ROOTLESS_GIDMAP_LENGTH="$ROOTLESS_GIDMAP_LENGTH" \
				bash -c 'for f in "$(command -v newuidmap)" "$(command -v newgidmap)" /etc/subuid /etc/subgid; do
					[ -e "$f" ] || continue; mount --bind /dev/null "$f" || exit 2; done
					exec "$0" "$@"' "$0" "$SUITE" "$RUNTIME" "$OUTDIR" "$@"
		fi
	fi
	AUX_UID=1024
fi
as_user() { # run as the rootless user (or as root in root mode)
	if [ -n "$ROOTLESS_USER" ]; then
		setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups \
			env XDG_RUNTIME_DIR="/run/user/$RL_UID" "$@"
	else
		"$@"
	fi
}

for c in bats script timeout jq gawk nsenter; do
	command -v "$c" >/dev/null || { echo "missing host command: $c" >&2; exit 2; }
done
for f in "$INTEG/testdata/busybox-amd64.tar.xz" "$INTEG/testdata/debian-amd64.tar.xz" \
	"$SUITE/contrib/cmd/recvtty/recvtty" "$SUITE/contrib/cmd/sd-helper/sd-helper" \
	"$SUITE/contrib/cmd/seccompagent/seccompagent"; do
	[ -e "$f" ] || { echo "missing $f (prepare the suite first, see docs/compatibility.md)" >&2; exit 2; }
done

mkdir -p "$OUTDIR"
OUTDIR=$(readlink -f "$OUTDIR")
# Per-run scratch: bats' TMPDIR (so every $ROOT/state the suite creates is found and cleaned)
# and a bin dir with the runtime under test as "runc", first in PATH and as RUNC.
SCRATCH=$(mktemp -d /var/tmp/runc-suite-run.XXXXXX)
chmod 755 "$SCRATCH"
BINDIR=$SCRATCH/bin
mkdir -p "$BINDIR"
ln -s "$RUNTIME" "$BINDIR/runc"
SUITE_PATH=$BINDIR:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
GIT_ENV=()
SPEC_GIT=${RUNTIME_SPEC_GIT:-}
if [ -n "$SPEC_GIT" ] && [ -n "$ROOTLESS_USER" ]; then
	# git refuses a repository owned by another user (safe.directory): a copy of the user's
	cp -a "$SPEC_GIT" "$SCRATCH/runtime-spec.git" && chown -R "$RL_UID:$RL_GID" "$SCRATCH/runtime-spec.git"
	SPEC_GIT=$SCRATCH/runtime-spec.git
fi
[ -n "$SPEC_GIT" ] && GIT_ENV=(GIT_CONFIG_COUNT=1 "GIT_CONFIG_KEY_0=url.$SPEC_GIT.insteadOf"
	GIT_CONFIG_VALUE_0=https://github.com/opencontainers/runtime-spec.git)
# how bats is started: as root, or as the rootless user with the rootless suite variables
RUN_AS=()
USER_ENV=(HOME=/root)
RUN_USER_DIR=""
if [ -n "$ROOTLESS_USER" ]; then
	RUN_AS=(setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups)
	mkdir -p "$SCRATCH/.gocache"
	chown "$RL_UID:$RL_GID" "$SCRATCH/.gocache"
	AUX_DIR=""
	if [[ "$ROOTLESS_FEATURES" == *idmap* ]]; then
		# cwd.bats: a dir owned by container uid AUX_UID that the user itself cannot enter
		AUX_DIR=$(mktemp -d "$SCRATCH/aux.XXXXXX")
		chmod 700 "$AUX_DIR"
		chown "$((ROOTLESS_UIDMAP_START - 1000 + AUX_UID))" "$AUX_DIR"
	fi
	if [ ! -d "/run/user/$RL_UID" ]; then
		RUN_USER_DIR=/run/user/$RL_UID
		mkdir -p -m 700 "$RUN_USER_DIR"
		chown "$RL_UID:$RL_GID" "$RUN_USER_DIR"
	fi
	USER_ENV=(HOME="$RL_HOME" USER="$ROOTLESS_USER" LOGNAME="$ROOTLESS_USER"
		XDG_RUNTIME_DIR="/run/user/$RL_UID" ROOTLESS_FEATURES="$ROOTLESS_FEATURES"
		ROOTLESS_UIDMAP_START="$ROOTLESS_UIDMAP_START" ROOTLESS_UIDMAP_LENGTH="$ROOTLESS_UIDMAP_LENGTH"
		ROOTLESS_GIDMAP_START="$ROOTLESS_GIDMAP_START" ROOTLESS_GIDMAP_LENGTH="$ROOTLESS_GIDMAP_LENGTH"
		AUX_UID="$AUX_UID" AUX_DIR="$AUX_DIR")
fi
if [ $# -gt 0 ]; then
	FILES=()
	for f in "$@"; do FILES+=("$(basename "$f")"); done
else
	FILES=()
	for f in "$INTEG"/*.bats; do FILES+=("$(basename "$f")"); done
fi

log() { echo "[$(date +%T)] $*" >&2; }

# ---- cleanup helpers ------------------------------------------------------
kill_pid() { # kill -9 one pid if it is alive (never by name)
	local p=$1
	[ -n "$p" ] && [ "$p" -gt 1 ] 2>/dev/null && [ -d "/proc/$p" ] && kill -9 "$p" 2>/dev/null
	return 0
}

cleanup_runtime_state() { # $1 = per-file tmp dir
	local tmp=$1 d id pid
	# every state root the suite used (--root "$ROOT/state", root.bats' "$ROOT/alt/state")
	while IFS= read -r d; do
		for id in $(as_user "$RUNTIME" --root "$d" list -q 2>/dev/null); do
			pid=$(as_user "$RUNTIME" --root "$d" state "$id" 2>/dev/null | jq -r '.pid // empty' 2>/dev/null)
			log "cleanup: leftover container $id (pid ${pid:-?}) in $d"
			kill_pid "$pid"
			as_user "$RUNTIME" --root "$d" delete -f "$id" >/dev/null 2>&1 || true
		done
	done < <(find "$tmp" -xdev -type d -name state 2>/dev/null)
	# the runtime's default root: only containers whose bundle is in this run's tmp
	as_user "$RUNTIME" list -f json 2>/dev/null | jq -r --arg t "$tmp/" \
		'.[]? | select(.bundle | startswith($t)) | "\(.id) \(.pid)"' 2>/dev/null |
		while read -r id pid; do
			log "cleanup: leftover container $id in default root"
			kill_pid "$pid"
			as_user "$RUNTIME" delete -f "$id" >/dev/null 2>&1 || true
		done
}

cleanup_cgroups() {
	local top d p i left
	for i in 1 2 3 4 5; do
		left=0
		for top in /sys/fs/cgroup/*/runc-cgroups-integration-test; do
			[ -d "$top" ] || continue
			left=1
			# thaw first: SIGKILL is not delivered to frozen tasks
			while IFS= read -r d; do
				[ -w "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
				[ -w "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
			done < <(find "$top" -type d 2>/dev/null)
			while IFS= read -r d; do
				for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
					log "cleanup: killing pid $p in $d"
					kill_pid "$p"
				done
			done < <(find "$top" -depth -type d 2>/dev/null)
			sleep 0.2
			find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
		[ $left = 0 ] && return 0
		sleep 0.5
	done
	for top in /sys/fs/cgroup/*/runc-cgroups-integration-test; do
		[ -d "$top" ] && log "cleanup: WARNING could not remove $top"
	done
	return 0
}

cleanup_processes() { # $1 = per-file tmp dir: kill whatever still references it
	local tmp=$1 p f
	# helper daemons started by the suite (pid files written by recvtty / seccompagent)
	while IFS= read -r f; do
		p=$(cat "$f" 2>/dev/null)
		case "$(readlink "/proc/$p/exe" 2>/dev/null)" in
		*/recvtty | */seccompagent) log "cleanup: killing helper $p"; kill_pid "$p" ;;
		esac
	done < <(find "$tmp" -xdev \( -path '*/tty/pid' -o -name seccompagent.pid \) 2>/dev/null)
	# any process whose cwd or command line is in this file's tmp dir
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		[ "$p" = $$ ] && continue
		if readlink "/proc/$p/cwd" 2>/dev/null | grep -qF "$tmp" ||
			tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$tmp"; then
			log "cleanup: killing leftover pid $p: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-100)"
			kill_pid "$p"
		fi
	done
}

# rootless: is pid (not a zombie) the user's or one of its subordinate uids'?
rootless_ours() {
	local u
	u=$(awk '/^Uid:/ {print $2; exit}' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$u" ] || return 1
	grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null && return 1
	[ "$u" = "$RL_UID" ] && return 0
	[ "$u" -ge "$ROOTLESS_UIDMAP_START" ] && [ "$u" -lt $((ROOTLESS_UIDMAP_START + ROOTLESS_UIDMAP_LENGTH)) ] && return 0
	[ "$u" -ge "$ROOTLESS_GIDMAP_START" ] && [ "$u" -lt $((ROOTLESS_GIDMAP_START + ROOTLESS_GIDMAP_LENGTH)) ] && return 0
	return 1
}
cleanup_rootless_processes() { # every process of the user and its subordinate uids, by pid
	local p i n
	[ -n "$ROOTLESS_USER" ] || return 0
	for i in 1 2 3; do
		n=0
		for p in /proc/[0-9]*; do
			p=${p#/proc/}
			[ "$p" = $$ ] && continue
			if rootless_ours "$p"; then
				log "cleanup: killing pid $p of $ROOTLESS_USER: $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-100)"
				kill_pid "$p"
				n=$((n + 1))
			fi
		done
		[ $n = 0 ] && break
		sleep 0.5
	done
	return 0
}

cleanup_mounts_and_tmp() {
	local tmp=$1 m
	# unmount anything left mounted under tmp (deepest first), then remove it
	for i in 1 2 3; do
		m=$(awk -v t="$tmp/" 'index($5, t) == 1 {print $5}' /proc/self/mountinfo | sort -r)
		[ -z "$m" ] && break
		for d in $m; do
			log "cleanup: unmounting $d"
			umount -l "$d" 2>/dev/null
		done
	done
	rm -rf --one-file-system "$tmp" 2>/dev/null || log "cleanup: WARNING could not remove $tmp"
}

# helpers.bash create_parent() does "mkdir -p /sys/fs/cgroup/$subsys/..." for every
# controller in /proc/cgroups, also unmounted ones (net_cls, perf_event, ... on
# this host), which leaves plain directories on the /sys/fs/cgroup tmpfs.
# Remove the ones that appeared during this file, if empty and not mount points.
remove_new_cgroup_stubs() { # $1 = listing of /sys/fs/cgroup taken before the file
	local e
	for e in $(ls /sys/fs/cgroup); do
		grep -qxF "$e" <<<"$1" && continue
		mountpoint -q "/sys/fs/cgroup/$e" && continue
		[ -d "/sys/fs/cgroup/$e" ] && rmdir "/sys/fs/cgroup/$e" 2>/dev/null &&
			log "cleanup: removed stub dir /sys/fs/cgroup/$e created by the suite"
	done
	return 0
}

cleanup_after_file() {
	local tmp=$1
	cleanup_runtime_state "$tmp"
	cleanup_cgroups
	cleanup_processes "$tmp"
	cleanup_rootless_processes
	cleanup_cgroups
	cleanup_mounts_and_tmp "$tmp"
	remove_new_cgroup_stubs "$2"
}

# ---- run ------------------------------------------------------------------
RESULTS=$OUTDIR/results.tsv # one line per test: file, number, result, name
SUMMARY=$OUTDIR/summary.tsv
: >"$RESULTS"
printf 'file\tpassed\tfailed\tskipped\ttimed_out\tnot_run\n' >"$SUMMARY"
{
	echo "runtime: $RUNTIME"
	"$RUNTIME" --version 2>&1 | sed 's/^/  /'
	echo "suite: $SUITE ($(cat "$SUITE/VERSION"))"
	[ -n "$ROOTLESS_USER" ] && echo "rootless as $ROOTLESS_USER ($RL_UID)  ROOTLESS_FEATURES='$ROOTLESS_FEATURES'"
	echo "bats: $(bats --version)  kernel: $(uname -r)  started: $(date -Is)"
} >"$OUTDIR/run-info.txt"

# stale cgroups from an earlier aborted run would break set_cgroups_path users
cleanup_cgroups
cleanup_rootless_processes 2>/dev/null

for f in "${FILES[@]}"; do
	[ -f "$INTEG/$f" ] || { log "no such file: $INTEG/$f"; continue; }
	ftmp=$SCRATCH/${f%.bats}
	[ -e "$ftmp" ] && cleanup_mounts_and_tmp "$ftmp"
	mkdir -p "$ftmp"
	chmod 755 "$ftmp"
	raw=$OUTDIR/$f.raw
	if [ -n "$ROOTLESS_USER" ]; then
		chown "$RL_UID:$RL_GID" "$ftmp"
		raw=$SCRATCH/$f.raw # written by script(1) as the user
		: >"$raw"
		chown "$RL_UID:$RL_GID" "$raw"
	fi
	log "running $f"
	cg_before=$(ls /sys/fs/cgroup)
	start=$(date +%s)
	# script gives bats (and thus the runtime) a controlling terminal, as runc's CI does.
	(
		cd "$INTEG" || exit 1
		# spec.bats "spec validator" clones runtime-spec from GitHub and runs
		# "go get gojsonschema": redirected to a local clone and Debian's
		# golang-github-xeipuuv-gojsonschema-dev (GOPATH mode, no network).
		exec "${RUN_AS[@]}" env -i PATH="$SUITE_PATH" "${USER_ENV[@]}" TERM=xterm LANG=C.UTF-8 \
			TMPDIR="$ftmp" RUNC="$BINDIR/runc" "${GIT_ENV[@]}" \
			GOPATH="${GOPATH:-/usr/share/gocode}" GOCACHE="$SCRATCH/.gocache" GOPROXY=off \
			timeout -k 15 "$PER_FILE_TIMEOUT" \
			script -qefc "bats --tap $f" "$raw"
	) </dev/null >/dev/null 2>"$OUTDIR/$f.harness-stderr"
	rc=$?
	secs=$(($(date +%s) - start))
	# strip CRs (pty) and script's header/footer lines
	sed -e 's/\r$//' -e '/^Script started on /d' -e '/^Script done on /d' "$raw" >"$OUTDIR/$f.log"
	rm -f "$raw"
	[ -s "$OUTDIR/$f.harness-stderr" ] || rm -f "$OUTDIR/$f.harness-stderr"

	timedout=0
	[ $rc = 124 ] || [ $rc = 137 ] && timedout=1
	[ $timedout = 1 ] && echo "# HARNESS: $f timed out after ${PER_FILE_TIMEOUT}s (rc=$rc)" >>"$OUTDIR/$f.log"

	cleanup_after_file "$ftmp" "$cg_before" 2>>"$OUTDIR/$f.cleanup.log"
	[ -s "$OUTDIR/$f.cleanup.log" ] || rm -f "$OUTDIR/$f.cleanup.log"

	# parse TAP
	total=$(grep -c '^@test ' "$INTEG/$f")
	awk -v file="$f" '
		/^ok [0-9]+ .* # skip/ { n=$2; sub(/^ok [0-9]+ /, ""); sub(/ # skip.*/, ""); print file "\t" n "\tskip\t" $0; next }
		/^ok [0-9]+ /         { n=$2; sub(/^ok [0-9]+ /, ""); print file "\t" n "\tpass\t" $0; next }
		/^not ok [0-9]+ /     { n=$3; sub(/^not ok [0-9]+ /, ""); sub(/ in [0-9]+ms$/, ""); print file "\t" n "\tfail\t" $0; next }
	' "$OUTDIR/$f.log" >"$OUTDIR/$f.results"
	pass=$(awk -F'\t' '$3=="pass"' "$OUTDIR/$f.results" | wc -l)
	fail=$(awk -F'\t' '$3=="fail"' "$OUTDIR/$f.results" | wc -l)
	skip=$(awk -F'\t' '$3=="skip"' "$OUTDIR/$f.results" | wc -l)
	reported=$((pass + fail + skip))
	notrun=$((total - reported))
	[ $notrun -lt 0 ] && notrun=0
	# tests never reported: the one running at the timeout counts as timed out, the rest as not run
	if [ $notrun -gt 0 ]; then
		grep '^@test ' "$INTEG/$f" | sed -e 's/^@test "//' -e 's/" {$//' | awk -v file="$f" -v first=$((reported + 1)) -v to=$timedout '
			NR >= first { print file "\t" NR "\t" ((NR == first && to) ? "timeout" : "notrun") "\t" $0 }' >>"$OUTDIR/$f.results"
	fi
	tcount=$timedout
	[ $notrun -eq 0 ] && tcount=0
	nr=$((notrun - tcount))
	cat "$OUTDIR/$f.results" >>"$RESULTS"
	rm -f "$OUTDIR/$f.results"
	printf '%s\t%d\t%d\t%d\t%d\t%d\n' "$f" "$pass" "$fail" "$skip" "$tcount" "$nr" >>"$SUMMARY"
	log "$f: pass=$pass fail=$fail skip=$skip timeout=$tcount notrun=$nr (rc=$rc, ${secs}s)"
done
rm -rf "$SCRATCH"
[ -n "$RUN_USER_DIR" ] && rm -rf "$RUN_USER_DIR"

# ---- table ------------------------------------------------------------------
awk -F'\t' '
	NR == 1 { printf "%-28s %7s %7s %7s %9s %7s\n", $1, $2, $3, $4, $5, $6; next }
	{ printf "%-28s %7d %7d %7d %9d %7d\n", $1, $2, $3, $4, $5, $6; p+=$2; f+=$3; s+=$4; t+=$5; n+=$6 }
	END { printf "%-28s %7d %7d %7d %9d %7d\n", "TOTAL", p, f, s, t, n }
' "$SUMMARY" | tee "$OUTDIR/table.txt"
awk -F'\t' 'NR > 1 { p+=$2; f+=$3+$5+$6; s+=$4 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$SUMMARY"
