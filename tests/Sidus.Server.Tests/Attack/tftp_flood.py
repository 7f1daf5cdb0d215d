# Sends COUNT read requests for FILE to SERVER:69, each from a socket of its own (a new source port, as a flood of
# boot requests would be), never acknowledges anything, and counts what comes back in the next WAIT seconds.
import json, socket, sys, time

server, name, count, wait = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), float(sys.argv[4])
request = b"\x00\x01" + name + b"\x00octet\x00"
sockets = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.sendto(request, (server, 69))
    sockets.append(s)
packets, received, deadline = 0, 0, time.monotonic() + wait
while time.monotonic() < deadline:
    for s in sockets:
        try:
            while True:
                received += len(s.recv(2048))
                packets += 1
        except BlockingIOError:
            pass
    time.sleep(0.2)
print(json.dumps({"requests": count, "request_bytes": len(request), "packets": packets, "bytes": received}), flush=True)
