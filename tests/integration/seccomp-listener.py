#!/usr/bin/python3
"""seccomp-listener.py SOCKET OUTDIR: a seccomp notify agent for the tests. Receives the
ContainerProcessState and the listener fd on SOCKET (as config-linux.md says), writes the
JSON to OUTDIR/state.json, then answers every notified syscall with a fake success (0) and
records its number in OUTDIR/handled, until the container's filter goes away."""
import array, fcntl, os, socket, struct, sys

NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif)  (80 bytes)
NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp) (24 bytes)

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(os.path.join(out, "listening"), "w").close()
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 65536, 1)
with open(os.path.join(out, "state.json"), "wb") as f:
    f.write(msg)
if not fds:
    sys.exit("no fd received")
lfd = fds[0]
while True:
    req = bytearray(80)
    try:
        fcntl.ioctl(lfd, NOTIF_RECV, req, True)
    except OSError:
        break  # ENOENT: no process is left under the filter
    nid, pid, flags, nr = struct.unpack_from("<QIIi", req)
    with open(os.path.join(out, "handled"), "a") as f:
        f.write(f"{nr}\n")
    try:
        fcntl.ioctl(lfd, NOTIF_SEND, bytearray(struct.pack("<QqiI", nid, 0, 0, 0)), True)
    except OSError:
        pass
