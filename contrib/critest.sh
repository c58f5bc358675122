#!/bin/bash
# critest.sh CRITEST RUNTIME [CRITEST-ARGS...]: run cri-tools' critest validation suite
# (not the benchmarks) against a private containerd (Debian 12's 1.6, CRI plugin, runc v2
# shim) whose runtime binary (the shim's BinaryName) is RUNTIME, e.g. oci-rt or /usr/sbin/runc.
#
#   CRITEST  an already-built critest binary (cri-tools v1.29.0 was measured; built outside
#            this repository, see docs/compatibility.md). This script builds nothing fetched.
#   RUNTIME  the runtime binary under test.
#   CRITEST-ARGS  more critest/ginkgo flags, e.g. --ginkgo.focus='exec with tty'
#
# No network: critest pulls registry.k8s.io/e2e-test-images/{busybox,nginx,httpd,nonewprivs},
# gcr.io/k8s-staging-cri-tools/test-image-* and containerd pulls the pause image; containerd 1.6
# asks the registry even for an image it has, so a private registry (Debian's docker-registry,
# own config, storage and port on 127.0.0.1) serves stand-ins under those names, built here
# from Debian's busybox package (BUSYBOX, default: apt-get download busybox into WORK, not
# installed; it conflicts with busybox-static) with the libraries it links, and two small
# static C programs (gcc): the pause, and the set-uid "Effective uid" printer of nonewprivs.
# The CRI plugin mirrors registry.k8s.io, gcr.io and docker.io to it. The stand-ins do what critest checks (see make_images); critest's
# "public image with digest" test names a fixed upstream digest no local image can have: it is
# skipped (SKIP).
#
# containerd runs in its own mount namespace (so its overlay, netns and shim mounts go away
# with it; /run/netns and /run/containerd are private tmpfs there) and its own cgroup namespace
# rooted at the cgroup ocirt-crit of every hierarchy. containerd and its shims are in
# ocirt-crit/daemon, so that the namespace's root cgroup has no process of its own, as the
# real root on a host (CTD_IN_ROOT=1: they stay in the namespace's root, as in a kind node or
# docker-in-docker: cgroup v2 then refuses to enable controllers in its subtree_control,
# EBUSY, which runc ignores). critest's pods ask for the cgroup parent /test.slice, which
# containerd (cgroupfs driver) turns into the relative cgroupsPath
# test.slice:cri-containerd:<id>: runc and oci-rt put it below the shim's cgroup in v1,
# /sys/fs/cgroup/<hierarchy>/ocirt-crit/daemon/test.slice:cri-containerd:<id>, and below its
# parent in the v2 hierarchy (/sys/fs/cgroup/unified/ocirt-crit/...). critest itself
# runs in containerd's mount namespace (nsenter), so its mount propagation tests see the same
# mounts as the runtime. CNI: bridge ocirt-crit0 (10.230.0.0/24, host-local data in WORK) and
# portmap, plugins from /usr/lib/cni (containernetworking-plugins). restrict_oom_score_adj =
# true (root here may not lower oom_score_adj).
#
# env: WORK      scratch, kept (logs, registry storage, images), default /var/tmp/ocirt-critest
#      RUN       runtime state (tmpfs), removed at the end, default /run/ocirt-critest
#      REG_PORT  registry port on 127.0.0.1, default 5077
#      SKIP      ginkgo skip regex, default 'public image with digest'
#      TRACE     "log": the runtime is called through a wrapper that keeps, per call, its argv,
#                the bundle's config.json and an exec's process.json in WORK/logs/rt-calls;
#                "strace": also strace -f of the subcommands in STRACE_CMDS (default "exec")
#      CRICTL    optional crictl binary: used at the end to remove pods critest left (so CNI
#                tears their network down); without it they are killed through ctr
#      KEEP=1    leave containerd and the registry running after critest (to look at them);
#                "critest.sh --stop" (same RUN) stops them and cleans up as a normal end does
#      LOGLEVEL  containerd's log level, default info
#      CTD_IN_ROOT=1  containerd in the cgroup namespace's root (see above)
#      BUSYBOX   the images' busybox binary (a build whose sh execs applets, see above)
# Output: WORK/logs/{critest.log,junit.xml,results.tsv,containerd.log,registry.log}; the last
# line says "passed N failed N skipped N" (skipped counts critest's 5 benchmarks, which run
# only with -benchmark, and the SKIP ones). INT/TERM to this script: critest is ended and
# everything cleaned up.
#
# As root. One run at a time (fixed cgroup, bridge and port). Processes are ended by pid. At
# the end nothing of the run is left outside WORK: no process, bridge, cgroup or mount, and the
# iptables nat rules portmap made for this network (comment "ocirt-crit") are removed.
set -u

STOP=
if [ "${1:-}" = --stop ]; then
	STOP=1
elif [ $# -lt 2 ]; then
	sed -n '2,4p' "$0" >&2
	exit 2
else
	CRITEST=$(readlink -f "$1") && [ -x "$CRITEST" ] || { echo "not executable: $1" >&2; exit 2; }
	RUNTIME=$(readlink -f "$2") && [ -x "$RUNTIME" ] || { echo "not executable: $2" >&2; exit 2; }
	shift 2
fi
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 2; }

WORK=${WORK:-/var/tmp/ocirt-critest}
RUN=${RUN:-/run/ocirt-critest}
REG_PORT=${REG_PORT:-5077}
SKIP=${SKIP-public image with digest}
TRACE=${TRACE:-}
STRACE_CMDS=${STRACE_CMDS:-exec}
CRICTL=${CRICTL:-}
KEEP=${KEEP:-}
LOGLEVEL=${LOGLEVEL:-info}
NAME=ocirt-crit
BRIDGE=ocirt-crit0
SUBNET=10.230.0.0/24
REG=127.0.0.1:$REG_PORT
SOCK=$RUN/containerd.sock
LOGS=$WORK/logs

# ---- cleanup -------------------------------------------------------------------
cleanup() {
	local p d i rule chain
	trap - EXIT INT TERM
	if [ -n "$KEEP" ] && [ -n "$CTD_PID" ]; then
		declare -p CTD_PID REG_PID HIER NAT_CHAINS_BEFORE CRICTL > "$RUN/keep.env"
		echo "KEEP: containerd pid $CTD_PID (socket $SOCK; nsenter -t $CTD_PID -m for its mounts)," \
			"registry pid $REG_PID; stop them and clean up with: $0 --stop" >&2
		return
	fi
	if [ -n "${CT_PID:-}" ] && kill -0 "$CT_PID" 2>/dev/null; then
		kill "$CT_PID" 2>/dev/null
		for i in $(seq 25); do kill -0 "$CT_PID" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$CT_PID" 2>/dev/null
		wait "$CT_PID" 2>/dev/null
	fi
	if [ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null; then
		if [ -n "$CRICTL" ]; then
			"$CRICTL" -r "unix://$SOCK" rmp -fa >/dev/null 2>&1
		fi
		for i in $(ctr -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr -a "$SOCK" -n k8s.io tasks kill -s KILL "$i" >/dev/null 2>&1
		done
		sleep 1
		for i in $(ctr -a "$SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr -a "$SOCK" -n k8s.io tasks rm -f "$i" >/dev/null 2>&1
		done
	fi
	# this containerd's shims (by the address they were given), then containerd
	for p in $(grep -l -- "$SOCK" /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3); do
		[ "$p" = "$CTD_PID" ] || kill -9 "$p" 2>/dev/null
	done
	if [ -n "$CTD_PID" ]; then
		kill "$CTD_PID" 2>/dev/null
		for i in $(seq 50); do kill -0 "$CTD_PID" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$CTD_PID" 2>/dev/null
		wait "$CTD_PID" 2>/dev/null
	fi
	# whatever is left in our cgroups was started by this run (containers of killed shims)
	for i in 1 2 3; do
		for d in $HIER; do
			[ -d "$d/$NAME" ] || continue
			# shellcheck disable=SC2044 # the output is pids, one a line
			for p in $(find "$d/$NAME" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				kill -9 "$p" 2>/dev/null
			done
		done
		sleep 0.3
	done
	for d in $HIER; do
		[ -d "$d/$NAME" ] && find "$d/$NAME" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$d/$NAME" ] && echo "cleanup: could not remove $d/$NAME" >&2
	done
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	# portmap's rules for this network, and its chains if this run made them and they are empty
	iptables -t nat -S 2>/dev/null | grep -F -- "\\\"$NAME\\\"" | grep '^-A ' | while read -r rule; do
		chain=$(sed -n 's/.* -j \(CNI-DN-[0-9a-f]*\).*/\1/p' <<<"$rule")
		eval "iptables -t nat -D ${rule#-A }" 2>/dev/null
		if [ -n "$chain" ]; then
			iptables -t nat -F "$chain" 2>/dev/null
			iptables -t nat -X "$chain" 2>/dev/null
		fi
	done
	# portmap's shared chains (CNI-HOSTPORT-DNAT, -SETMARK, -MASQ): removed if this run made
	# them and no container's chain (CNI-DN-*, of any CNI user) is left to use them
	if ! iptables -t nat -S 2>/dev/null | grep -q '^-N CNI-DN-'; then
		for chain in $(iptables -t nat -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep '^CNI-HOSTPORT-'); do
			grep -qx -- "$chain" <<<"$NAT_CHAINS_BEFORE" && continue
			iptables -t nat -S | grep -- "-j $chain\$" | while read -r rule; do
				eval "iptables -t nat -D ${rule#-A }"
			done
			iptables -t nat -F "$chain" 2>/dev/null
			iptables -t nat -X "$chain" 2>/dev/null
		done
	fi
	ip link del "$BRIDGE" 2>/dev/null
	rm -rf "$RUN"
}

if [ -n "$STOP" ]; then
	[ -f "$RUN/keep.env" ] || { echo "no $RUN/keep.env: nothing kept" >&2; exit 2; }
	. "$RUN/keep.env"
	KEEP=
	cleanup
	exit 0
fi

need() {
	local c
	for c; do command -v "$c" >/dev/null || { echo "missing: $c" >&2; exit 2; }; done
}
need containerd ctr docker-registry gcc curl jq unshare nsenter ip iptables tar sha256sum
for p in bridge portmap host-local loopback; do
	[ -x /usr/lib/cni/$p ] || { echo "missing /usr/lib/cni/$p (containernetworking-plugins)" >&2; exit 2; }
done
# the images' busybox: Debian's busybox package, not busybox-static, whose shell runs applets
# without exec (FEATURE_SH_STANDALONE): critest's MaskedPaths test needs "sh -c ls" to exec /bin/ls
if [ -z "${BUSYBOX:-}" ]; then
	BUSYBOX=$WORK/busybox-deb/bin/busybox
	if [ ! -x "$BUSYBOX" ]; then
		mkdir -p "$WORK/busybox-deb"
		(cd "$WORK" && rm -f busybox_*.deb && apt-get download busybox >/dev/null 2>&1 &&
			dpkg -x busybox_*.deb "$WORK/busybox-deb" && rm -f busybox_*.deb) ||
			{ echo "could not get Debian's busybox package (apt-get download busybox)" >&2; exit 2; }
	fi
fi
if PATH=/nonexistent "$BUSYBOX" sh -c ls >/dev/null 2>&1; then
	echo "$BUSYBOX runs applets without exec (a static, FEATURE_SH_STANDALONE build): use Debian's busybox package's" >&2
	exit 2
fi
[ ! -e "$RUN" ] || { echo "$RUN exists: another run, or a run not cleaned" >&2; exit 2; }
ip link show "$BRIDGE" >/dev/null 2>&1 && { echo "bridge $BRIDGE exists: another run?" >&2; exit 2; }

mkdir -p "$WORK" "$LOGS" "$RUN"
rm -rf "${LOGS:?}"/* "$WORK/tmp" "$WORK/cni" "$WORK/containerd" "$WORK/opt"
mkdir -p "$WORK/tmp" "$WORK/cni/net.d" "$WORK/cni/ipam" "$LOGS/rt-calls"

trap cleanup EXIT
trap 'exit 130' INT TERM
REG_PID="" CTD_PID="" CT_PID=""
# mountinfo: the fields after the optional ones ("-") are type, source, super options
HIER=$(awk '{ i = 7; while ($i != "-") i++ } $(i+1) ~ /^cgroup2?$/ { print $5 }' /proc/self/mountinfo | grep '^/sys/fs/cgroup/')
NAT_CHAINS_BEFORE=$(iptables -t nat -S 2>/dev/null | awk '$1 == "-N" { print $2 }' | grep '^CNI-HOSTPORT-' || true)

# ---- registry ------------------------------------------------------------------
mkdir -p "$WORK/registry"
cat > "$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORK/registry
  delete:
    enabled: true
http:
  addr: $REG
EOF
docker-registry serve "$WORK/registry.yml" > "$LOGS/registry.log" 2>&1 &
REG_PID=$!
for i in $(seq 100); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
curl -sf "http://$REG/v2/" >/dev/null || { echo "registry did not start (see $LOGS/registry.log)" >&2; exit 1; }

# ---- images --------------------------------------------------------------------
IMG=$WORK/img
# blob FILE: store it under IMG/blobs, print its "sha256:HEX SIZE"
blob() {
	local h
	h=$(sha256sum "$1" | cut -d' ' -f1)
	mkdir -p "$IMG/blobs"
	cp "$1" "$IMG/blobs/$h"
	echo "sha256:$h $(stat -c %s "$1")"
}
# push_blob REPO DIGEST
push_blob() {
	local loc
	curl -sf -I "http://$REG/v2/$1/blobs/$2" >/dev/null && return 0
	loc=$(curl -sf -X POST -D - -o /dev/null "http://$REG/v2/$1/blobs/uploads/" | tr -d '\r' |
		sed -n 's/^[Ll]ocation: //p')
	case $loc in /*) loc=http://$REG$loc ;; esac
	case $loc in *\?*) loc=$loc\&digest=$2 ;; *) loc=$loc\?digest=$2 ;; esac
	curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$IMG/blobs/${2#sha256:}" "$loc" >/dev/null ||
		{ echo "push of $2 to $1 failed" >&2; return 1; }
}
# layer DIR: a tar of DIR (root-owned), prints "sha256:HEX SIZE"
layer() {
	tar --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -C "$1" -cf "$IMG/layer.tar" .
	blob "$IMG/layer.tar"
}
# image NAME CONFIG-JSON LAYER-DIR...: build and push NAME (registry/repo:tag; the host part
# is dropped, the mirror serves it) with the image config's "config" object CONFIG-JSON.
image() {
	local name=$1 cfg=$2 repo tag d dig size diffs=() layers=() c
	shift 2
	repo=${name#*/}
	tag=${repo##*:}
	repo=${repo%:*}
	for d; do
		read -r dig size < <(layer "$d")
		push_blob "$repo" "$dig" || return 1
		diffs+=("$dig")
		layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$dig\",\"size\":$size}")
	done
	jq -cn --argjson cfg "$cfg" --args '{architecture: "amd64", os: "linux",
		created: "1970-01-01T00:00:00Z", config: $cfg,
		rootfs: {type: "layers", diff_ids: $ARGS.positional}}' "${diffs[@]}" > "$IMG/config.json"
	read -r c size < <(blob "$IMG/config.json")
	push_blob "$repo" "$c" || return 1
	local IFS=,
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"$c" "$size" "${layers[*]}" > "$IMG/manifest.json"
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$IMG/manifest.json" "http://$REG/v2/$repo/manifests/$tag" >/dev/null ||
		{ echo "push of manifest $name failed" >&2; return 1; }
}

make_images() {
	local b=$IMG/base a t PATHENV='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
	rm -rf "$IMG"
	mkdir -p "$b"/{bin,etc,dev,proc,sys,tmp,root,home,usr/bin,usr/sbin,var/run,var/www}
	chmod 1777 "$b/tmp"
	chmod 700 "$b/root"
	cp "$BUSYBOX" "$b/bin/busybox"
	for a in $(ldd "$BUSYBOX" | grep -o '/[^ ]*'); do
		mkdir -p "$b/$(dirname "$a")"
		cp -L "$a" "$b/$a"
	done
	# hard links, as in the busybox image (critest masks /bin/ls: a symlink would mask busybox)
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln "$b/bin/busybox" "$b/bin/$a"
	done
	# applets critest uses that Debian's busybox-static lacks
	[ -e "$b/bin/pgrep" ] || cat > "$b/bin/pgrep" <<-'EOF'
	#!/bin/sh
	# stand-in for pgrep PATTERN: the pids whose command name matches
	r=1
	for d in /proc/[0-9]*; do
		c=$(cat "$d/comm" 2>/dev/null) || continue
		echo "$c" | grep -q -- "$1" && { echo "${d#/proc/}"; r=0; }
	done
	exit $r
	EOF
	[ -e "$b/bin/ipcs" ] || cat > "$b/bin/ipcs" <<-'EOF'
	#!/bin/sh
	# stand-in for ipcs -m: the shared memory segments of this IPC namespace
	echo "------ Shared Memory Segments --------"
	echo "key        shmid      owner      perms      bytes      nattch"
	tail -n +2 /proc/sysvipc/shm | while read -r key shmid perms size cpid lpid nattch uid rest; do
		echo "$key $shmid $uid $perms $size $nattch"
	done
	EOF
	chmod 755 "$b/bin/pgrep" "$b/bin/ipcs"
	cat > "$b/etc/passwd" <<-'EOF'
	root:x:0:0:root:/root:/bin/sh
	daemon:x:1:1:daemon:/usr/sbin:/bin/false
	bin:x:2:2:bin:/bin:/bin/false
	sys:x:3:3:sys:/dev:/bin/false
	www-data:x:33:33:www-data:/var/www:/bin/false
	nobody:x:65534:65534:nobody:/home:/bin/false
	EOF
	cat > "$b/etc/group" <<-'EOF'
	root:x:0:
	daemon:x:1:
	bin:x:2:
	sys:x:3:
	www-data:x:33:
	nogroup:x:65534:
	EOF

	# the default test image (busybox:1.29-2), the user images, the test-image-* images
	image registry.k8s.io/e2e-test-images/busybox:1.29-2 "{\"Env\":[$PATHENV],\"Cmd\":[\"sh\"]}" "$b"
	local -A users=([test-image-user-uid]=1002 [test-image-user-username]=www-data
		[test-image-user-uid-group]=1003:1004 [test-image-user-username-group]=www-data:1004)
	for a in "${!users[@]}"; do
		image "gcr.io/k8s-staging-cri-tools/$a:latest" \
			"{\"Env\":[$PATHENV],\"Cmd\":[\"sh\"],\"User\":\"${users[$a]}\"}" "$b"
	done
	# ADD ${TEST} ${TEST}: an empty file /TEST makes each a different image
	for a in test-image-1:latest test-image-2:latest test-image-3:latest test-image-latest:latest \
		test-image-digest:latest test-image-tag:test test-image-tag:all test-image-tags:1; do
		t=${a%%:*}
		case $a in test-image-tag:*) t=${a#*:} ;; test-image-tags:*) t=same-image ;; esac
		rm -rf "$IMG/extra" && mkdir -p "$IMG/extra" && : > "$IMG/extra/$t"
		image "gcr.io/k8s-staging-cri-tools/$a" "{\"Env\":[$PATHENV],\"Cmd\":[\"sh\"]}" "$b" "$IMG/extra"
	done
	# test-image-tags:1, 2 and 3 are one image
	for t in 2 3; do
		curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
			--data-binary "@$IMG/manifest.json" "http://$REG/v2/k8s-staging-cri-tools/test-image-tags/manifests/$t" >/dev/null
	done

	# test-image-predefined-group: default-user (1000) is in group-defined-in-image (50000); USER 1000
	rm -rf "$IMG/extra" && mkdir -p "$IMG/extra/etc" "$IMG/extra/home/default-user"
	{ cat "$b/etc/passwd"; echo 'default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh'; } > "$IMG/extra/etc/passwd"
	{ cat "$b/etc/group"; echo 'default-user:x:1000:'; echo 'group-defined-in-image:x:50000:default-user'; } > "$IMG/extra/etc/group"
	image gcr.io/k8s-staging-cri-tools/test-image-predefined-group:latest \
		"{\"Env\":[$PATHENV],\"Cmd\":[\"sh\"],\"User\":\"1000\"}" "$b" "$IMG/extra"

	# nginx stand-in: a web server (busybox httpd) on $NGINX_PORT, /var/run/nginx.pid, a process
	# named nginx, "master process" in pid 1's command line (critest's ContainerPID test)
	rm -rf "$IMG/extra" && mkdir -p "$IMG/extra/usr/sbin" "$IMG/extra/usr/share/nginx/html"
	cat > "$IMG/extra/usr/sbin/nginx" <<-'EOF'
	#!/bin/sh
	[ "$1" = "nginx: master process" ] || exec /usr/sbin/nginx "nginx: master process" "$@"
	echo $$ > /var/run/nginx.pid
	httpd -f -p "${NGINX_PORT:-80}" -h /usr/share/nginx/html &
	trap 'kill $! 2>/dev/null; exit 0' TERM INT QUIT
	wait
	EOF
	chmod 755 "$IMG/extra/usr/sbin/nginx"
	echo '<html><body><h1>Welcome to nginx!</h1></body></html>' > "$IMG/extra/usr/share/nginx/html/index.html"
	image registry.k8s.io/e2e-test-images/nginx:1.14-2 \
		"{\"Env\":[$PATHENV],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGQUIT\"}" "$b" "$IMG/extra"
	image gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64:latest \
		"{\"Env\":[$PATHENV,\"NGINX_PORT=12003\"],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"],\"StopSignal\":\"SIGQUIT\"}" "$b" "$IMG/extra"

	# httpd stand-in: logs httpd's "Command line: 'httpd -D FOREGROUND'", serves port 80
	rm -rf "$IMG/extra" && mkdir -p "$IMG/extra/usr/local/bin" "$IMG/extra/usr/local/apache2/htdocs"
	cat > "$IMG/extra/usr/local/bin/httpd-foreground" <<-'EOF'
	#!/bin/sh
	echo "[core:notice] [pid $$] AH00094: Command line: 'httpd -D FOREGROUND' (busybox httpd stand-in)" >&2
	httpd -f -p 80 -h /usr/local/apache2/htdocs &
	trap 'kill $! 2>/dev/null; exit 0' TERM INT QUIT WINCH
	wait
	EOF
	chmod 755 "$IMG/extra/usr/local/bin/httpd-foreground"
	echo '<html><body><h1>It works!</h1></body></html>' > "$IMG/extra/usr/local/apache2/htdocs/index.html"
	image registry.k8s.io/e2e-test-images/httpd:2.4.39-4 \
		"{\"Env\":[$PATHENV],\"Cmd\":[\"httpd-foreground\"],\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGWINCH\"}" "$b" "$IMG/extra"

	# nonewprivs: a set-uid root program printing its effective uid
	rm -rf "$IMG/extra" && mkdir -p "$IMG/extra/usr/local/bin"
	printf '#include <stdio.h>\n#include <unistd.h>\nint main(void){printf("Effective uid: %%d\\n",(int)geteuid());return 0;}\n' > "$IMG/nnp.c"
	gcc -static -O2 -o "$IMG/extra/usr/local/bin/nnp" "$IMG/nnp.c" || return 1
	chmod 4755 "$IMG/extra/usr/local/bin/nnp"
	image registry.k8s.io/e2e-test-images/nonewprivs:1.3 \
		"{\"Env\":[$PATHENV],\"Cmd\":[\"/usr/local/bin/nnp\"]}" "$b" "$IMG/extra"

	# pause: only /pause, as the real one (FROM scratch)
	rm -rf "$IMG/extra" && mkdir -p "$IMG/extra"
	cat > "$IMG/pause.c" <<-'EOF'
	#include <signal.h>
	#include <sys/wait.h>
	#include <unistd.h>
	static void down(int s) { (void)s; _exit(0); }
	static void reap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
	int main(void) {
		struct sigaction d = {.sa_handler = down}, r = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
		sigaction(SIGINT, &d, NULL);
		sigaction(SIGTERM, &d, NULL);
		sigaction(SIGCHLD, &r, NULL);
		for (;;) pause();
	}
	EOF
	gcc -static -O2 -o "$IMG/extra/pause" "$IMG/pause.c" || return 1
	image registry.k8s.io/pause:3.6 '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$IMG/extra"
}
make_images > "$LOGS/images.log" 2>&1 || { cat "$LOGS/images.log" >&2; echo "image build failed" >&2; exit 1; }

# ---- the runtime (through a logging wrapper with TRACE) -------------------------
BIN=$RUNTIME
if [ -n "$TRACE" ]; then
	BIN=$RUN/runtime
	cat > "$BIN" <<EOF
#!/bin/sh
# logs each call of $RUNTIME in $LOGS/rt-calls
n=\$(date +%s.%N)-\$\$
d=$LOGS/rt-calls
printf '%s\n' "\$@" > "\$d/\$n.argv"
prev= cmd=
for a; do
	case \$prev in --bundle|-b) [ -f "\$a/config.json" ] && cp "\$a/config.json" "\$d/\$n.config.json" ;;
		--process|-p) [ -f "\$a" ] && cp "\$a" "\$d/\$n.process.json" ;; esac
	case \$a in --bundle=*) [ -f "\${a#*=}/config.json" ] && cp "\${a#*=}/config.json" "\$d/\$n.config.json" ;; esac
	case \$a in create|start|exec|run|kill|delete|state|update|pause|resume|ps|events|features|checkpoint|restore)
		[ -z "\$cmd" ] && case \$prev in --root|--log|--log-format|--criu) ;; *) cmd=\$a ;; esac ;; esac
	prev=\$a
done
if [ "$TRACE" = strace ] && [ -n "\$cmd" ] && case " $STRACE_CMDS " in *" \$cmd "*) true ;; *) false ;; esac; then
	exec strace -f -tt -s 512 -o "\$d/\$n.\$cmd.strace" "$RUNTIME" "\$@"
fi
exec "$RUNTIME" "\$@"
EOF
	chmod 755 "$BIN"
fi

# ---- CNI and containerd ----------------------------------------------------------
cat > "$WORK/cni/net.d/10-$NAME.conflist" <<EOF
{"cniVersion": "0.4.0", "name": "$NAME", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "dataDir": "$WORK/cni/ipam", "ranges": [[{"subnet": "$SUBNET"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
cat > "$WORK/containerd.toml" <<EOF
version = 2
root = "$WORK/containerd"
state = "$RUN/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$RUN/containerd-ttrpc.sock"
[debug]
  level = "$LOGLEVEL"
[plugins."io.containerd.internal.v1.opt"]
  path = "$WORK/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$BIN"
        Root = "$RUN/runtime-root"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$WORK/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."registry.k8s.io"]
    endpoint = ["http://$REG"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."gcr.io"]
    endpoint = ["http://$REG"]
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["http://$REG"]
EOF

# the cgroup ocirt-crit in every hierarchy (cpuset needs its cpus and mems first)
for d in $HIER; do
	mkdir -p "$d/$NAME"
	if [ -f "$d/cpuset.cpus" ]; then
		cat "$d/cpuset.cpus" > "$d/$NAME/cpuset.cpus"
		cat "$d/cpuset.mems" > "$d/$NAME/cpuset.mems"
	fi
done
mkdir -p /run/netns /run/containerd
# inside the new mount and cgroup namespaces: fresh cgroup mounts (their root is now
# ocirt-crit), containerd's own cgroup daemon below it (unless CTD_IN_ROOT=1), private
# /run/netns and /run/containerd (shim sockets), then containerd
INNER='set -e
awk '\''{ i = 7; while ($i != "-") i++ } $(i+1) ~ /^cgroup2?$/ { print $5, $(i+1), $(i+3) }'\'' /proc/self/mountinfo | grep "^/sys/fs/cgroup/" |
while read -r mp type opts; do
	umount "$mp"
	if [ "$type" = cgroup2 ]; then mount -t cgroup2 cgroup2 "$mp"
	else mount -t cgroup -o "$(echo "$opts" | sed "s/^rw,//; s/^ro,//")" cgroup "$mp"; fi
done
if [ "$1" != 1 ]; then
	for mp in $(awk '\''{ i = 7; while ($i != "-") i++ } $(i+1) ~ /^cgroup2?$/ { print $5 }'\'' /proc/self/mountinfo | grep "^/sys/fs/cgroup/"); do
		mkdir -p "$mp/daemon"
		if [ -f "$mp/cpuset.cpus" ]; then cat "$mp/cpuset.cpus" > "$mp/daemon/cpuset.cpus"; cat "$mp/cpuset.mems" > "$mp/daemon/cpuset.mems"; fi
		echo $$ > "$mp/daemon/cgroup.procs"
	done
fi
mount -t tmpfs -o mode=755 tmpfs /run/netns
mount -t tmpfs -o mode=711 tmpfs /run/containerd
exec containerd --config "$0"'
(
	for d in $HIER; do echo "$BASHPID" > "$d/$NAME/cgroup.procs"; done
	exec unshare -m -C --propagation private bash -c "$INNER" "$WORK/containerd.toml" "${CTD_IN_ROOT:-}"
) > "$LOGS/containerd.log" 2>&1 &
CTD_PID=$!
for i in $(seq 150); do [ -S "$SOCK" ] && break; kill -0 "$CTD_PID" 2>/dev/null || break; sleep 0.2; done
[ -S "$SOCK" ] || { echo "containerd did not start (see $LOGS/containerd.log)" >&2; exit 1; }
ctr -a "$SOCK" plugins ls | grep -q 'io.containerd.grpc.v1 *cri .* ok' ||
	{ echo "the CRI plugin is not ok (see $LOGS/containerd.log)" >&2; exit 1; }

# ---- critest ---------------------------------------------------------------------
echo "critest: runtime $RUNTIME ($("$RUNTIME" --version 2>&1 | head -1)), log $LOGS/critest.log"
set -- --runtime-endpoint "unix://$SOCK" --image-endpoint "unix://$SOCK" \
	--ginkgo.no-color --ginkgo.junit-report="$LOGS/junit.xml" ${SKIP:+"--ginkgo.skip=$SKIP"} "$@"
# in the background so that an INT/TERM to this script is handled at once (cleanup ends it)
nsenter -t "$CTD_PID" -m -- env TMPDIR="$WORK/tmp" "$CRITEST" "$@" > "$LOGS/critest.log" 2>&1 &
CT_PID=$!
wait "$CT_PID"
rc=$?
CT_PID=

# results.tsv: status<TAB>name, from the JUnit report
if [ -f "$LOGS/junit.xml" ]; then
	tr '\n' ' ' < "$LOGS/junit.xml" | sed 's/<testcase /\n<testcase /g' | grep '^<testcase ' |
		sed -n 's/^<testcase name="\([^"]*\)" classname="[^"]*" status="\([^"]*\)".*/\2\t\1/p' |
		sed 's/&#39;/'\''/g; s/&quot;/"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' |
		grep -v -P '\t\[(SynchronizedBeforeSuite|BeforeSuite|AfterSuite|SynchronizedAfterSuite|ReportAfterSuite)\]' |
		sort -k2 > "$LOGS/results.tsv"
	grep -P '^(failed|panicked|timedout|interrupted|aborted)\t' "$LOGS/results.tsv" | sed 's/^/  /'
	echo "passed $(grep -c '^passed' "$LOGS/results.tsv") failed $(grep -c -P '^(failed|panicked|timedout|interrupted|aborted)\t' "$LOGS/results.tsv") skipped $(grep -c '^skipped' "$LOGS/results.tsv") (critest exit $rc)"
else
	echo "no JUnit report; critest exit $rc (see $LOGS/critest.log)"
fi
exit $rc
