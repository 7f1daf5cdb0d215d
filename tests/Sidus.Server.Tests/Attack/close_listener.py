# Shuts down the listening TCP socket of process PID on PORT, as a failing kernel or a stray tool would: the socket
# is taken with pidfd_getfd(2) and shut down, so the server's accept() fails from then on. Run as root.
import ctypes, os, socket, sys

SYS_PIDFD_OPEN, SYS_PIDFD_GETFD = 434, 438
libc = ctypes.CDLL(None, use_errno=True)
pid, port = int(sys.argv[1]), int(sys.argv[2])
pidfd = libc.syscall(SYS_PIDFD_OPEN, pid, 0)
if pidfd < 0:
    sys.exit("pidfd_open: " + os.strerror(ctypes.get_errno()))
done = 0
for name in os.listdir(f"/proc/{pid}/fd"):
    try:
        if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
            continue
    except OSError:
        continue
    fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
    if fd < 0:
        continue
    s = socket.socket(fileno=fd)
    try:
        if s.type == socket.SOCK_STREAM and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) and s.getsockname()[1] == port:
            s.shutdown(socket.SHUT_RDWR)
            done += 1
    except OSError:
        pass
    finally:
        s.close()
print(f"shut down {done} listening socket(s) on port {port}")
sys.exit(0 if done else 1)
