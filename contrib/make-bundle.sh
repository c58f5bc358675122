#!/bin/sh
# make-bundle.sh DIR [args...]: a busybox-static bundle in DIR (rootfs/ + config.json from
# `oci-rt spec`), terminal off, running ARGS (default: sh).
set -eu
dir=$1; shift
OCIRT=${OCIRT:-oci-rt}
busybox=${BUSYBOX:-/bin/busybox}
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev"
cp "$busybox" "$dir/rootfs/bin/busybox"
for a in $("$dir/rootfs/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$dir/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
"$OCIRT" spec --bundle "$dir"
if [ $# -gt 0 ]; then
  args='[]'
  for x in "$@"; do args=$(printf '%s' "$args" | jq -c --arg x "$x" '. + [$x]'); done
else
  args='["sh"]'
fi
jq --argjson a "$args" '.process.args = $a | .process.terminal = false' "$dir/config.json" > "$dir/config.json.new"
mv "$dir/config.json.new" "$dir/config.json"
