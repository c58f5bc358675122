#!/usr/bin/python3
"""console-receiver.py SOCKET OUTDIR: a --console-socket peer for the tests. Accepts one
connection, receives the pty name and the master fd (exactly one), writes OUTDIR/name and
OUTDIR/nfds, types "abc" into the master and records what the container writes to
OUTDIR/output until the pty closes (or 10 s pass)."""
import os, select, socket, sys, time

path, out = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(os.path.join(out, "listening"), "w").close()
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 4)
open(os.path.join(out, "name"), "w").write(msg.decode())
open(os.path.join(out, "nfds"), "w").write(str(len(fds)))
master = fds[0]
os.write(master, b"abc\n")
data = b""
deadline = time.time() + 10
while time.time() < deadline:
    r, _, _ = select.select([master], [], [], 0.2)
    if not r:
        continue
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break  # EIO: the slave side is gone
    if not chunk:
        break
    data += chunk
    open(os.path.join(out, "output"), "wb").write(data)
open(os.path.join(out, "done"), "w").close()
