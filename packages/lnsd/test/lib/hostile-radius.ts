// Spoofed RADIUS replies for the hostile-input test: a Python script (raw sockets, which Node has
// not) that forges UDP datagrams from the RADIUS server's own address and port to lnsd's RADIUS
// client ports: Access-Accept, -Reject, -Challenge and Accounting-Response with every Identifier,
// random authenticators and attributes. Prints {"spoofed": N}. Run in lnsd's namespace as
//   python3 -c SPOOF_PY SRC_IP SRC_PORT DST_IP DST_PORT_MIN DST_PORT_MAX COUNT SEED SPREAD_MS
export const SPOOF_PY = String.raw`
import json, random, socket, struct, sys, time
src, sport, dst, pmin, pmax, count, seed, spread = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
rnd = random.Random(seed)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
def radius(i):
    code = rnd.choice([2, 2, 2, 3, 11, 5, rnd.randrange(256)])
    attrs = b""
    for _ in range(rnd.randrange(6)):
        t = rnd.choice([1, 8, 18, 25, 27, 80, 26, rnd.randrange(256)])
        v = bytes(rnd.randrange(256) for _ in range(16 if t == 80 else rnd.randrange(40)))
        attrs += bytes([t, min(255, len(v) + 2)]) + v
    length = 20 + len(attrs)
    if rnd.randrange(8) == 0:
        length = rnd.randrange(65536)
    auth = bytes(rnd.randrange(256) for _ in range(16))
    return struct.pack("!BBH", code, i % 256, length) + auth + attrs
def udp(payload, dport):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(u), rnd.randrange(65536), 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return ip + u
ports = list(range(pmin, pmax + 1))
sent = 0
t0 = time.time()
for i in range(count):
    dport = ports[(i // 256) % len(ports)]
    s.sendto(udp(radius(i), dport), (dst, 0))
    sent += 1
    wait = t0 + spread / 1000.0 * (i + 1) / count - time.time()
    if wait > 0:
        time.sleep(wait)
print(json.dumps({"spoofed": sent}), flush=True)
`;
