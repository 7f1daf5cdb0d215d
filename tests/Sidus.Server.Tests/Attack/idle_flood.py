# Opens COUNT idle TCP connections (alternating between the ports given) from the source addresses given, never
# sends a byte, holds them for HOLD seconds and reports every few seconds how many the server still lets it hold.
# Bounded in count and time; run by ServeFloodTests inside the attacker's network namespace.
# A SYN the server's full accept queue dropped is sent again once (TCP_SYNCNT 1), then the connection is given up and
# counted as never connected: with Linux's default of six retries, a SYN resent at 31 or 63 s made a connection the
# server let in that late, still rightly held at the last count.
import errno, json, resource, socket, sys, time

server, ports, sources, count, hold = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], sys.argv[3].split(","), int(sys.argv[4]), float(sys.argv[5])
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
started = time.monotonic()
sockets, failed = [], 0
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
    try:
        s.bind((sources[i % len(sources)], 0))
        s.connect_ex((server, ports[i % len(ports)]))
        sockets.append((ports[i % len(ports)], s))
    except OSError:
        failed += 1
        s.close()
    if i % 1000 == 999:
        time.sleep(0.05)
print(json.dumps({"event": "opened", "count": len(sockets), "failed": failed, "seconds": round(time.monotonic() - started, 1)}), flush=True)

never = 0

def census():
    # A socket is read until it ends once; a connection given up (ETIMEDOUT) is reported once, then left out.
    global sockets, never
    held, alive = {p: 0 for p in ports}, []
    for port, s in sockets:
        try:
            # What the server sent (NBD's greeting) is read and dropped; an end of stream means it closed.
            while s.recv(4096, socket.MSG_DONTWAIT) != b"":
                pass
            s.close()
        except BlockingIOError:
            held[port] += 1
            alive.append((port, s))
        except OSError as e:
            never += e.errno == errno.ETIMEDOUT
            s.close()
    sockets = alive
    return held

peak = {p: 0 for p in ports}
while time.monotonic() - started < hold:
    time.sleep(3)
    held = census()
    for p in ports:
        peak[p] = max(peak[p], held[p])
    print(json.dumps({"event": "held", "t": round(time.monotonic() - started, 1), "held": {str(p): n for p, n in held.items()}, "never connected": never}), flush=True)
for _, s in sockets:
    s.close()
print(json.dumps({"event": "done", "peak": {str(p): n for p, n in peak.items()}}), flush=True)
