#!/bin/bash
# Hostile control clients against a daemon with a tunnel up: garbage,
# truncated frames, huge lengths, bad versions and names, 40 connections at
# once, a watcher that never reads, a client that stops mid-frame.  All the
# while a well-behaved `pvpn status` keeps answering, the tunnel stays up
# (status connected, same SPIs, pings cross) and pvpnd does not crash.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/profiles/pvpn-lib.sh"
. "$(dirname "$0")/../demo/lib-ctl.sh"

ix_setup
ix_server_start
pc_start
pc_profile "$IX_DIR/demo.conf"
pc_expect 0 save demo "$IX_DIR/demo.conf"
pc_expect 0 connect demo --wait
spi=$(pc_json 'd["connection"]["child_sas"][0]["spi_in"]' status demo)
ix_log "tunnel up, inbound SPI $spi"

good() {
	[ "$(pc_json 'd["connection"]["status"]' status demo)" = connected ] ||
		ix_fail "the good client lost the tunnel's status ($1)"
	[ "$(pc_json 'd["connection"]["child_sas"][0]["spi_in"]' status demo)" = "$spi" ] ||
		ix_fail "the SA changed ($1)"
	kill -0 "$PC_PID" 2>/dev/null || { tail -n 40 "$IX_DIR/pvpnd.log" >&2; ix_fail "pvpnd died ($1)"; }
	ix_log "ok: good client served after: $1"
}

# Each hostile step is a small Python program over the socket; it exits
# non-zero when the daemon answered wrongly.
hostile() {
	local what=$1
	shift
	"$PC_PY" - "$PC_SOCK" "$@" >"$IX_DIR/hostile.out" 2>&1 || {
		cat "$IX_DIR/hostile.out" >&2
		ix_fail "hostile step '$what'"
	}
	sed "s/^/    /" "$IX_DIR/hostile.out"
	good "$what"
}

PY_COMMON='
import os, socket, struct, sys, time
path = sys.argv[1]
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(10)
    return s
def frame(body):
    return struct.pack(">I", len(body)) + body
def req(op, seq, *attrs):
    return frame(struct.pack(">BBHI", 1, 1, op, seq) + b"".join(attrs))
def attr(t, v):
    return struct.pack(">HI", t, len(v)) + v
def read_frame(s):
    hdr = b""
    while len(hdr) < 4:
        c = s.recv(4 - len(hdr))
        if not c:
            return None
        hdr += c
    (n,) = struct.unpack(">I", hdr)
    body = b""
    while len(body) < n:
        c = s.recv(n - len(body))
        if not c:
            return None
        body += c
    return body
def result(body):
    # version, kind, op, seq, then attributes; find RESULT (3) and MESSAGE (5)
    v, k, op, seq = struct.unpack(">BBHI", body[:8])
    res = msg = None
    p = 8
    while p + 6 <= len(body):
        t, l = struct.unpack(">HI", body[p:p + 6])
        val = body[p + 6:p + 6 + l]
        if t == 3: res = struct.unpack(">I", val)[0]
        if t == 5: msg = val.decode(errors="replace")
        p += 6 + l
    return k, seq, res, msg
def closed(s):
    try:
        while True:
            c = s.recv(65536)
            if not c:
                return True
    except (socket.timeout, ConnectionResetError):
        return False
'

hostile "garbage and bad requests" <<PY
$PY_COMMON
s = conn()
cases = [
    (frame(os.urandom(200)), "random body"),
    (frame(struct.pack(">BBHI", 9, 1, 7, 11)), "version 9"),
    (frame(struct.pack(">BBHI", 1, 2, 7, 12)), "a reply as request"),
    (req(0x7777, 13), "unknown op"),
    (req(5, 14), "connect without a name"),
    (req(5, 15, attr(1, b"../../etc/passwd")), "path in a name"),
    (req(4, 16, attr(1, b"x")), "list with a name"),
    (req(1, 17, attr(1, b"x"), attr(2, b"a\0b")), "NUL in text"),
    (req(2, 18, attr(1, b"demo"), attr(1, b"demo")), "duplicate name"),
    (req(2, 19, struct.pack(">HI", 1, 1000) + b"demo"), "attribute overruns frame"),
]
for data, what in cases:
    s.sendall(data)
    k, seq, res, msg = result(read_frame(s))
    assert k == 2 and res == 2, (what, k, res, msg)
    print("refused %-26s -> %s" % (what, msg))
# The same connection still works.
s.sendall(req(7, 99, attr(1, b"demo")))
k, seq, res, msg = result(read_frame(s))
assert seq == 99 and res == 0, (seq, res, msg)
print("same connection still served")
PY

hostile "huge and tiny lengths" <<PY
$PY_COMMON
for n in (0xffffffff, 0x7fffffff, 65537, 7, 0):
    s = conn()
    s.sendall(struct.pack(">I", n) + b"x" * 16)
    k, seq, res, msg = result(read_frame(s))
    assert res == 2 and "frame length" in msg, (n, res, msg)
    assert closed(s), "connection left open after length %d" % n
    print("length %#x -> error, closed" % n)
PY

hostile "truncated frame, then silence" <<PY
$PY_COMMON
s = conn()
s.sendall(req(7, 1, attr(1, b"demo"))[:10])
t0 = time.time()
assert closed(s), "a stalled client was never dropped"
print("stalled client dropped after %.1f s" % (time.time() - t0))
s = conn()
s.sendall(struct.pack(">I", 60000) + b"y" * 100)
s.close()
print("client gone mid-frame")
PY

hostile "many connections at once" <<PY
$PY_COMMON
socks, busy = [], 0
for i in range(40):
    s = conn()
    socks.append(s)
time.sleep(0.5)
for s in socks:
    s.setblocking(False)
    try:
        b = read_frame(s)
    except BlockingIOError:
        continue
    if b is not None and result(b)[3] and "too many" in result(b)[3]:
        busy += 1
print("40 connections: %d refused as busy" % busy)
assert busy >= 40 - 24, busy
for s in socks:
    s.close()
PY

# A watcher that never reads while status events pile up: the daemon
# drops it; reconnecting the tunnel makes events.
"$PC_PY" - "$PC_SOCK" >"$IX_DIR/deaf.out" 2>&1 <<PY &
$PY_COMMON
s = conn()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(req(8, 1))
time.sleep(120)
PY
deaf=$!
sleep 1
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	pc status demo >/dev/null || ix_fail "status failed while a watcher does not read"
done
# Events: every status request does not make one, so flood the daemon with
# watch subscriptions' snapshots instead — each WATCH reply is large.
"$PC_PY" - "$PC_SOCK" <<PY || ix_fail "flooding the deaf watcher"
$PY_COMMON
s = conn()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
for i in range(20000):
    try:
        s.sendall(req(8, i))
    except (BrokenPipeError, ConnectionResetError):
        print("non-reading client dropped after %d requests" % i)
        break
else:
    raise SystemExit("a client that never reads was never dropped")
PY
good "a client that never reads"
kill "$deaf" 2>/dev/null
wait "$deaf" 2>/dev/null

ix_check "ping still crosses the tunnel" pv_ping
pc_expect 0 status demo
grep -q "demo: connected" "$PC_OUT" || ix_fail "tunnel not connected at the end"
grep -qE "dropped|refused" "$IX_DIR/pvpnd.log" || ix_fail "pvpnd logged nothing about the hostile clients"
pc_expect 0 disconnect demo
pc_wait_status demo disconnected 20
pc_stop
[ "$PC_RC" = 0 ] || ix_fail "pvpnd exit status $PC_RC"
ix_log PASS
