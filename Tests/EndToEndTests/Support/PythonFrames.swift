/// Frames and fields as `Protocol/PROTOCOL.md` §3 and §5 define them, in Python: the start of
/// the scripts through which tests act as a client written from the spec alone, or as a peer of
/// another uid (a forked child, or `setpriv`).
///
/// `field(tag, value)` encodes a field; `read_frame(sock)` reads one whole frame and answers its
/// status and body; `request(sock, opcode, body)` sends a request and reads its answer;
/// `fields(body)` lists a body's `(tag, value)` pairs.
enum PythonFrames {
    static let prelude = """
        import json, os, socket, struct, sys, time
        def field(tag, value):
            return struct.pack(">BH", tag, len(value)) + value
        def read_frame(sock):
            def exactly(n):
                data = b""
                while len(data) < n:
                    chunk = sock.recv(n - len(data))
                    if not chunk: raise ConnectionError("closed")
                    data += chunk
                return data
            (length,) = struct.unpack(">I", exactly(4))
            payload = exactly(length)
            _, _, status, _ = struct.unpack(">BBHI", payload[:8])
            return status, payload[8:]
        def request(sock, opcode, body, request_id=1):
            sock.sendall(struct.pack(">IBBHI", 8 + len(body), opcode, 0, 0, request_id) + body)
            return read_frame(sock)
        def fields(body):
            out, at = [], 0
            while at < len(body):
                tag, size = struct.unpack(">BH", body[at:at + 3])
                out.append((tag, body[at + 3:at + 3 + size]))
                at += 3 + size
            return out

        """
}
