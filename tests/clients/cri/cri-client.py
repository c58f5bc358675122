#!/usr/bin/python3
"""A minimal Kubernetes CRI client for the tests (what crictl does, for the calls we use).

cri-client.py call METHOD [JSON]      RuntimeService/METHOD with the request JSON (argument or
                                      stdin; proto field names); prints the response as JSON.
cri-client.py remove-pods            stops and removes every pod sandbox (and so its containers).
cri-client.py exec-sync [--timeout S] CONTAINER CMD...
                                      ExecSync: the command's stdout and stderr, its exit code as ours.
cri-client.py stream [--stdin TEXT] [--resize COLSxROWS] URL
                                      the URL of an Exec or Attach response, over WebSocket with the
                                      v4.channel.k8s.io protocol (what the kubelet's streaming server
                                      speaks besides SPDY): sends TEXT as stdin and the terminal size,
                                      prints stdout and stderr, exits with the process's exit code.

cri-client.py serve SOCKET             answers call, remove-pods and exec-sync for this script run
                                      with $CRI_CLIENT_SOCK=SOCKET: gRPC is loaded once (a third of
                                      a second per call otherwise), the calls are the same.

The socket is $CRI_SOCK (unix path); the messages come from cri_pb2 (protoc --python_out of
cri.proto) in the directory $CRI_PB. A gRPC error prints its code and details on stderr and exits
125 (call, exec-sync); a stream error exits 126.
"""
import base64
import io
import json
import os
import socket
import struct
import sys
import traceback
import urllib.parse

SERVICE = "/runtime.v1.RuntimeService/"
grpc = json_format = cri_pb2 = None


def load():
    global grpc, json_format, cri_pb2
    if cri_pb2 is None:
        import grpc as g
        from google.protobuf import json_format as j
        sys.path.insert(0, os.environ.get("CRI_PB", "."))
        import cri_pb2 as c  # generated at test time
        grpc, json_format, cri_pb2 = g, j, c


def rpc(method, request, timeout=60):
    desc = cri_pb2.DESCRIPTOR.services_by_name["RuntimeService"].methods_by_name[method]
    req_cls = getattr(cri_pb2, desc.input_type.name)
    resp_cls = getattr(cri_pb2, desc.output_type.name)
    if isinstance(request, dict):
        request = json_format.ParseDict(request, req_cls())
    with grpc.insecure_channel("unix:" + os.environ["CRI_SOCK"]) as ch:
        call = ch.unary_unary(SERVICE + method, request_serializer=req_cls.SerializeToString,
                              response_deserializer=resp_cls.FromString)
        return call(request, timeout=timeout)


def grpc_fail(err):
    sys.stderr.write("grpc error: %s: %s\n" % (err.code().name, err.details()))
    sys.exit(125)


def cmd_call(args):
    load()
    method = args[0]
    text = args[1] if len(args) > 1 else sys.stdin.read()
    try:
        resp = rpc(method, json.loads(text or "{}"))
    except grpc.RpcError as e:
        grpc_fail(e)
    print(json.dumps(json_format.MessageToDict(resp, preserving_proto_field_name=True,
                                               including_default_value_fields=True)))


def cmd_remove_pods(args):
    """Stops and removes every pod sandbox (with its containers); prints their ids."""
    load()
    try:
        for pod in rpc("ListPodSandbox", cri_pb2.ListPodSandboxRequest()).items:
            rpc("StopPodSandbox", cri_pb2.StopPodSandboxRequest(pod_sandbox_id=pod.id))
            rpc("RemovePodSandbox", cri_pb2.RemovePodSandboxRequest(pod_sandbox_id=pod.id))
            print(pod.id)
    except grpc.RpcError as e:
        grpc_fail(e)


def cmd_exec_sync(args):
    load()
    timeout = 0
    if args[0] == "--timeout":
        timeout, args = int(args[1]), args[2:]
    req = cri_pb2.ExecSyncRequest(container_id=args[0], cmd=args[1:], timeout=timeout)
    try:
        resp = rpc("ExecSync", req, timeout=timeout + 60)
    except grpc.RpcError as e:
        grpc_fail(e)
    sys.stdout.buffer.write(resp.stdout)
    sys.stderr.buffer.write(resp.stderr)
    sys.exit(resp.exit_code)


# --- WebSocket (RFC 6455) client, just enough for the channel.k8s.io protocol ---
def ws_send(sock, payload, opcode=2):
    head = bytes([0x80 | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    mask = os.urandom(4)
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def recv_exact(f, n):
    data = f.read(n)
    if len(data) != n:
        raise EOFError("connection closed")
    return data


def ws_recv(f):
    """One whole message: (opcode, payload)."""
    opcode, payload = None, b""
    while True:
        b0, b1 = recv_exact(f, 2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", recv_exact(f, 2))[0]
        elif n == 127:
            n = struct.unpack("!Q", recv_exact(f, 8))[0]
        mask = recv_exact(f, 4) if b1 & 0x80 else None
        data = recv_exact(f, n)
        if mask:
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        if opcode is None or (b0 & 0x0F) >= 8:
            opcode = b0 & 0x0F
        payload += data
        if b0 & 0x80:
            return opcode, payload


def cmd_stream(args):
    stdin, resize = None, None
    while args[0].startswith("--"):
        if args[0] == "--stdin":
            stdin = args[1].encode()
        elif args[0] == "--resize":
            resize = [int(x) for x in args[1].split("x")]
        args = args[2:]
    url = urllib.parse.urlsplit(args[0])
    sock = socket.create_connection((url.hostname, url.port or 80), timeout=60)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"
                  % (url.path + ("?" + url.query if url.query else ""), url.netloc, key)).encode())
    f = sock.makefile("rb")
    status = f.readline().decode()
    headers = []
    while True:
        line = f.readline().decode().strip()
        if not line:
            break
        headers.append(line.lower())
    if " 101 " not in status:
        sys.stderr.write("stream: no upgrade: %s %s\n" % (status.strip(), f.read(2000)))
        sys.exit(126)
    if resize:
        ws_send(sock, b"\x04" + json.dumps({"Width": resize[0], "Height": resize[1]}).encode())
    if stdin is not None:
        ws_send(sock, b"\x00" + stdin)
    code = None
    while True:
        try:
            opcode, msg = ws_recv(f)
        except (EOFError, ConnectionError):
            break
        if opcode == 8:  # close
            break
        if opcode not in (1, 2) or not msg:
            continue
        ch, data = msg[0], msg[1:]
        if ch == 1:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        elif ch == 2:
            sys.stderr.buffer.write(data)
        elif ch == 3 and data:
            st = json.loads(data)
            if st.get("status") == "Success":
                code = 0
            else:
                code = 126
                for cause in st.get("details", {}).get("causes", []):
                    if cause.get("reason") == "ExitCode":
                        code = int(cause["message"])
                if code == 126:
                    sys.stderr.write("stream: %s\n" % st.get("message"))
    sock.close()
    if code is None:
        sys.stderr.write("stream: closed without an exit status\n")
        code = 126
    sys.exit(code)


def recv_all(conn):
    data = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk


def run_captured(argv, stdin):
    """argv's command in this process, its stdin given, its output and exit code returned."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode()))
    sys.stdout = io.TextIOWrapper(out, write_through=True)
    sys.stderr = io.TextIOWrapper(err, write_through=True)
    code = 0
    try:
        SERVED[argv[0]](argv[1:])
    except SystemExit as e:
        if isinstance(e.code, str):
            sys.stderr.write(e.code + "\n")
            code = 1
        else:
            code = e.code or 0
    except Exception:
        sys.stderr.write(traceback.format_exc())
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # the wrappers close their buffers when collected: take the bytes first
        result = {"stdout": base64.b64encode(out.getvalue()).decode(),
                  "stderr": base64.b64encode(err.getvalue()).decode()}
        sys.stdin, sys.stdout, sys.stderr = saved
    result["code"] = code
    return result


def cmd_serve(args):
    load()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args[0])
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        with conn:
            try:
                req = json.loads(recv_all(conn))
                conn.sendall(json.dumps(run_captured(req["argv"], req["stdin"])).encode())
            except Exception:
                traceback.print_exc()


def forward(sock_path, argv):
    """Has the serve process run argv; False if it cannot be reached."""
    stdin = sys.stdin.read() if argv[0] == "call" and len(argv) == 2 else ""
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(sock_path)
    except OSError:
        return False
    with conn:
        conn.sendall(json.dumps({"argv": argv, "stdin": stdin}).encode())
        conn.shutdown(socket.SHUT_WR)
        resp = json.loads(recv_all(conn))
    sys.stdout.buffer.write(base64.b64decode(resp["stdout"]))
    sys.stderr.buffer.write(base64.b64decode(resp["stderr"]))
    sys.exit(resp["code"])


SERVED = {"call": cmd_call, "exec-sync": cmd_exec_sync, "remove-pods": cmd_remove_pods}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd in SERVED and os.environ.get("CRI_CLIENT_SOCK"):
        forward(os.environ["CRI_CLIENT_SOCK"], sys.argv[1:])
    dict(SERVED, stream=cmd_stream, serve=cmd_serve).get(cmd, lambda a: sys.exit(__doc__))(args)


if __name__ == "__main__":
    main()
