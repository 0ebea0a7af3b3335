// epoll-load: a closed-loop load client in C, as light as a client can be, so that what it
// measures is the server. One thread, one epoll set, N connections with D requests in flight
// each, pre-decoded tokens, one write(2) per connection per readable event.
//
//   epoll-load --target tessera|redis --socket PATH --tokens FILE [-c N] [-d D] [--seconds S]
//              [--user-id U]
//
// Tessera: VERIFY (opcode 0x21) of a random token from FILE, written from Protocol/PROTOCOL.md
// (sections 2, 3 and 7.15). A reply counts when its status is 0, its user_id (tag 1) is U and
// its session_id (tag 2) is the one inside the token.
// Redis: GET session:<token> (RESP2). A reply counts when it is the JSON value that
// `tessera-load redis-load` stored for that token.
//
// Prints one JSON line (label, op, ops_per_sec, completed, failed, p50_us, p99_us, p999_us),
// like `tessera-load run --json`. Exit status 1 when a reply was wrong or missing.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_LENGTH 68
#define MAX_DEPTH 256
#define BUFFER_SIZE (256 * 1024)
#define HISTOGRAM_BUCKETS 200000 // 1 µs buckets up to 200 ms; later replies land in the last

static const char *redis_prefix = "{\"user_id\":1,\"session\":\"";
static const char *redis_suffix =
    "\",\"expires_at\":1767312000000,\"created_at\":1767225600000,\"last_seen\":1767225600000,\"roles\":[\"bench\"],"
    "\"ip\":\"203.0.113.7\",\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\"}";

typedef struct {
    char text[TOKEN_LENGTH];
    uint8_t session_id[16];
} token_t;

typedef struct {
    int fd;
    uint8_t in[BUFFER_SIZE];
    size_t in_length;
    uint8_t out[BUFFER_SIZE];
    size_t out_length;
    uint64_t sent_at[MAX_DEPTH];
    uint32_t token_of[MAX_DEPTH];
    // Redis answers in order: a FIFO of slots. Tessera replies name their slot (request id).
    int fifo[MAX_DEPTH];
    int fifo_head, fifo_count;
    int in_flight;
} connection_t;

static token_t *tokens;
static size_t token_count;
static int redis;
static uint64_t user_id = 1;
static uint64_t completed, failed;
static uint64_t histogram[HISTOGRAM_BUCKETS];
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static int running = 1;
static const char *first_failure;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int base64url_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

// The 51 bytes of a token's text (section 9): version, key id (2), session id (16), secret (32).
static int decode_token(const char *text, uint8_t out[51]) {
    uint32_t bits = 0;
    int count = 0, length = 0;
    for (int i = 0; i < TOKEN_LENGTH; i++) {
        int v = base64url_value(text[i]);
        if (v < 0) return -1;
        bits = (bits << 6) | (uint32_t)v;
        count += 6;
        if (count >= 8) {
            count -= 8;
            if (length < 51) out[length++] = (uint8_t)(bits >> count);
        }
    }
    return length == 51 ? 0 : -1;
}

static void fail(const char *why) {
    failed++;
    if (!first_failure) first_failure = why;
}

static void record(uint64_t latency_ns) {
    uint64_t bucket = latency_ns / 1000;
    if (bucket >= HISTOGRAM_BUCKETS) bucket = HISTOGRAM_BUCKETS - 1;
    histogram[bucket]++;
    completed++;
}

static double percentile_us(double p) {
    uint64_t total = 0;
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) total += histogram[i];
    if (total == 0) return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)total);
    uint64_t seen = 0;
    for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += histogram[i];
        if (seen > rank) return (double)i + 0.5;
    }
    return HISTOGRAM_BUCKETS;
}

static void queue_request(connection_t *c, int slot) {
    uint32_t t = (uint32_t)(next_random() % token_count);
    c->token_of[slot] = t;
    uint8_t *p = c->out + c->out_length;
    if (redis) {
        static const char head[] = "*2\r\n$3\r\nGET\r\n$76\r\nsession:";
        memcpy(p, head, sizeof head - 1);
        memcpy(p + sizeof head - 1, tokens[t].text, TOKEN_LENGTH);
        memcpy(p + sizeof head - 1 + TOKEN_LENGTH, "\r\n", 2);
        c->out_length += sizeof head - 1 + TOKEN_LENGTH + 2;
        c->fifo[(c->fifo_head + c->fifo_count) % MAX_DEPTH] = slot;
        c->fifo_count++;
    } else {
        // length 79 = 8 + field (3 + 68); opcode 0x21; flags 0; status 0; request id = slot.
        static const uint8_t head[] = {0, 0, 0, 79, 0x21, 0, 0, 0};
        memcpy(p, head, 8);
        p[8] = (uint8_t)(slot >> 24), p[9] = (uint8_t)(slot >> 16), p[10] = (uint8_t)(slot >> 8), p[11] = (uint8_t)slot;
        p[12] = 1, p[13] = 0, p[14] = TOKEN_LENGTH;
        memcpy(p + 15, tokens[t].text, TOKEN_LENGTH);
        c->out_length += 15 + TOKEN_LENGTH;
    }
    c->sent_at[slot] = now_ns();
    c->in_flight++;
}

static uint64_t read_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

// A Tessera reply body: status 0, user_id (tag 1) = user_id, session_id (tag 2) = the token's.
static int tessera_reply_ok(const uint8_t *frame, uint32_t length, const token_t *token) {
    if (frame[4] != 0x21 || !(frame[5] & 1) || frame[6] || frame[7]) return 0;
    const uint8_t *body = frame + 12, *end = frame + 4 + length;
    int user_ok = 0, session_ok = 0;
    while (body + 3 <= end) {
        uint8_t tag = body[0];
        uint16_t n = (uint16_t)(body[1] << 8 | body[2]);
        if (body + 3 + n > end) return 0;
        if (tag == 1 && n == 8) user_ok = read_u64(body + 3) == user_id;
        if (tag == 2 && n == 16) session_ok = memcmp(body + 3, token->session_id, 16) == 0;
        body += 3 + n;
    }
    return user_ok && session_ok;
}

static int redis_value_ok(const uint8_t *value, size_t n, const token_t *token) {
    size_t a = strlen(redis_prefix), b = strlen(redis_suffix);
    return n == a + 32 + b && memcmp(value, redis_prefix, a) == 0 && memcmp(value + a, token->text, 32) == 0 &&
           memcmp(value + a + 32, redis_suffix, b) == 0;
}

// Consumes whole replies from c->in; queues the next request of each answered slot.
static int consume(connection_t *c, uint64_t *last_reply) {
    size_t at = 0;
    for (;;) {
        size_t available = c->in_length - at;
        const uint8_t *p = c->in + at;
        int slot;
        int ok;
        if (redis) {
            if (available < 5) break;
            const uint8_t *crlf = memchr(p, '\r', available);
            if (!crlf || crlf + 1 >= p + available) break;
            if (p[0] != '$') return -1;
            long length = strtol((const char *)p + 1, NULL, 10);
            size_t header = (size_t)(crlf - p) + 2;
            if (length < 0) {
                at += header;
                ok = 0;
            } else {
                if (available < header + (size_t)length + 2) break;
                if (c->fifo_count == 0) return -1;
                slot = c->fifo[c->fifo_head];
                ok = redis_value_ok(p + header, (size_t)length, &tokens[c->token_of[slot]]);
                at += header + (size_t)length + 2;
            }
            slot = c->fifo[c->fifo_head];
            c->fifo_head = (c->fifo_head + 1) % MAX_DEPTH;
            c->fifo_count--;
        } else {
            if (available < 12) break;
            uint32_t length = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
            if (length < 8 || length > BUFFER_SIZE - 4) return -1;
            if (available < 4 + (size_t)length) break;
            uint32_t id = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11];
            if (id >= MAX_DEPTH) return -1;
            slot = (int)id;
            ok = tessera_reply_ok(p, length, &tokens[c->token_of[slot]]);
            at += 4 + length;
        }
        uint64_t now = now_ns();
        if (ok) record(now - c->sent_at[slot]);
        else fail(redis ? "redis: wrong or missing value" : "tessera: wrong reply");
        *last_reply = now;
        c->in_flight--;
        if (running) queue_request(c, slot);
    }
    memmove(c->in, c->in + at, c->in_length - at);
    c->in_length -= at;
    return 0;
}

static int flush_out(connection_t *c) {
    size_t done = 0;
    while (done < c->out_length) {
        ssize_t n = write(c->fd, c->out + done, c->out_length - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1; // replies are small: a full socket buffer means a stuck server
        done += (size_t)n;
    }
    c->out_length = 0;
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: epoll-load --target tessera|redis --socket PATH --tokens FILE [-c N] [-d D] [--seconds S] [--user-id U]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *target = NULL, *socket_path = NULL, *token_file = NULL;
    int connections = 1, depth = 1;
    double seconds = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) usage();
        if (!strcmp(a, "--target")) target = argv[++i];
        else if (!strcmp(a, "--socket")) socket_path = argv[++i];
        else if (!strcmp(a, "--tokens")) token_file = argv[++i];
        else if (!strcmp(a, "-c")) connections = atoi(argv[++i]);
        else if (!strcmp(a, "-d")) depth = atoi(argv[++i]);
        else if (!strcmp(a, "--seconds")) seconds = atof(argv[++i]);
        else if (!strcmp(a, "--user-id")) user_id = strtoull(argv[++i], NULL, 10);
        else usage();
    }
    if (!target || !socket_path || !token_file || connections < 1 || depth < 1 || depth > MAX_DEPTH) usage();
    redis = !strcmp(target, "redis");
    if (!redis && strcmp(target, "tessera")) usage();

    FILE *file = fopen(token_file, "r");
    if (!file) { perror(token_file); return 2; }
    size_t capacity = 1 << 20;
    tokens = malloc(capacity * sizeof *tokens);
    char line[256];
    while (fgets(line, sizeof line, file)) {
        if (strlen(line) < TOKEN_LENGTH) continue;
        if (token_count == capacity) tokens = realloc(tokens, (capacity *= 2) * sizeof *tokens);
        token_t *t = &tokens[token_count];
        memcpy(t->text, line, TOKEN_LENGTH);
        uint8_t raw[51];
        if (decode_token(t->text, raw) != 0) { fprintf(stderr, "not a token: %.68s\n", line); return 2; }
        memcpy(t->session_id, raw + 3, 16);
        token_count++;
    }
    fclose(file);
    if (token_count == 0) { fprintf(stderr, "no tokens in %s\n", token_file); return 2; }

    int epoll = epoll_create1(EPOLL_CLOEXEC);
    connection_t *all = calloc((size_t)connections, sizeof *all);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, socket_path, sizeof address.sun_path - 1);
    for (int i = 0; i < connections; i++) {
        connection_t *c = &all[i];
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(c->fd, (struct sockaddr *)&address, sizeof address) != 0) { perror("connect"); return 2; }
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_ADD, c->fd, &event);
    }
    uint64_t started = now_ns(), stop_at = started + (uint64_t)(seconds * 1e9), last_reply = started;
    for (int i = 0; i < connections; i++) {
        for (int slot = 0; slot < depth; slot++) queue_request(&all[i], slot);
        if (flush_out(&all[i]) != 0) { perror("write"); return 2; }
    }
    struct epoll_event events[256];
    int in_flight = connections * depth;
    uint64_t give_up = 0;
    while (in_flight > 0) {
        int n = epoll_wait(epoll, events, 256, 100);
        uint64_t now = now_ns();
        if (running && now >= stop_at) {
            running = 0;
            give_up = now + 5000000000ull;
        }
        if (!running && now >= give_up) { fail("replies still missing 5 s after the end"); break; }
        for (int e = 0; e < n; e++) {
            connection_t *c = events[e].data.ptr;
            ssize_t got = read(c->fd, c->in + c->in_length, BUFFER_SIZE - c->in_length);
            if (got <= 0) {
                if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
                fail("connection closed by the server");
                epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
                in_flight -= c->in_flight;
                c->in_flight = 0;
                continue;
            }
            c->in_length += (size_t)got;
            int before = c->in_flight;
            if (consume(c, &last_reply) != 0) { fail("undecodable reply"); return 1; }
            in_flight -= before - c->in_flight;
            if (c->out_length && flush_out(c) != 0) { fail("write failed"); return 1; }
        }
        in_flight = 0;
        for (int i = 0; i < connections; i++) in_flight += all[i].in_flight;
    }
    double elapsed = (double)(last_reply - started) / 1e9;
    printf("{\"label\":\"%s %dx%d (epoll-load)\",\"op\":\"%s\",\"ops_per_sec\":%.1f,\"completed\":%llu,\"failed\":%llu,"
           "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f}\n",
           target, connections, depth, redis ? "redis-get" : "verify", (double)completed / elapsed,
           (unsigned long long)completed, (unsigned long long)failed, percentile_us(50), percentile_us(99), percentile_us(99.9));
    if (failed) fprintf(stderr, "%llu failed replies; first: %s\n", (unsigned long long)failed, first_failure);
    return failed ? 1 : 0;
}
