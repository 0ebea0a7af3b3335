// The header is the module: epoll(7) and accept4(2) for the transport floor.
