/* The machine's ceiling for the scan benchmark (scripts/bench_scan.sh): the least a
 * SYN sender can do on Linux. Every frame (Ethernet + IPv4 + TCP SYN with MSS) is built
 * before the clock starts, then each thread sends its share over its own AF_PACKET
 * socket (qdisc bypass), and nothing is captured, checked or retried. Two ways to send:
 *   sendmmsg  batches of 64 frames per call (the usual fast path);
 *   ring      a TPACKET_V2 transmit ring with a virtio-net header per frame whose
 *             hdr_len is the whole frame (so the kernel copies the frame into the packet
 *             and never points into the ring), one send() per 64 frames: what tcpcraft
 *             does since session 3.
 * tcpcraft's rates are printed as a share of these, measured in the same run, because
 * this VM's speed varies by a third from minute to minute.
 *
 *   bench_ceiling answered|silent THREADS PROBES DST_MAC SRC_MAC IFNAME [sendmmsg|ring]
 *
 * answered: SYNs to 198.18.0.2 ports 1..65535 (every one answered by the test bed's
 * kernel); silent: 10 ports on each host of 198.19.0.0/16 (dropped on arrival).
 * Prints "N probes in S s, R probes/s" (R over all threads, sending only).
 * Only the test bed's addresses: 198.18.0.1 -> 198.18.0.2 and 198.19.0.0/16. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <errno.h>
#include <poll.h>
#include <sys/mman.h>

enum { FRAME = 58, BATCH = 64 };
static unsigned char dmac[6], smac[6];
static int ifindex, answered, per_thread, ring;
static pthread_barrier_t ready;

static unsigned short csum(const unsigned char *p, int n, unsigned sum) {
    for (int i = 0; i < n; i += 2) sum += (p[i] << 8) | p[i + 1];
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (unsigned short)~sum;
}

static void build(unsigned char *f, unsigned dst, int port) {
    memset(f, 0, FRAME);
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    f[12] = 0x08;
    unsigned char *ip = f + 14, *t = ip + 20;
    ip[0] = 0x45; ip[3] = 44; ip[8] = 64; ip[9] = 6;
    inet_pton(AF_INET, "198.18.0.1", ip + 12);
    unsigned d = htonl(dst);
    memcpy(ip + 16, &d, 4);
    unsigned short s = csum(ip, 20, 0);
    ip[10] = s >> 8; ip[11] = s & 0xff;
    t[0] = 0x9c; t[1] = 0x40; t[2] = port >> 8; t[3] = port & 0xff; t[4] = 1;
    t[12] = 0x60; t[13] = 0x02; t[14] = 0x04;
    t[20] = 2; t[21] = 4; t[22] = 0x05; t[23] = 0xb4;
    unsigned sum = 0;
    for (int i = 12; i < 20; i += 2) sum += (ip[i] << 8) | ip[i + 1];
    sum += 6 + 24;
    s = csum(t, 24, sum);
    t[16] = s >> 8; t[17] = s & 0xff;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run(void *arg) {
    long id = (long)arg;
    int fd = socket(AF_PACKET, SOCK_RAW, 0), one = 1, big = 4 << 20;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof big);
    struct sockaddr_ll a = {0};
    a.sll_family = AF_PACKET;
    a.sll_ifindex = ifindex;
    a.sll_halen = 6;
    memcpy(a.sll_addr, dmac, 6);
    unsigned char(*fr)[FRAME] = malloc((size_t)FRAME * per_thread);
    if (fd < 0 || !fr) { perror("bench_ceiling"); exit(1); }
    unsigned silent0 = ntohl(inet_addr("198.19.0.0")), server = ntohl(inet_addr("198.18.0.2"));
    for (int i = 0; i < per_thread; i++) {
        long k = (long)i * 2 + id; /* threads interleave, as tcpcraft's do */
        if (answered) build(fr[i], server, (int)(k % 65535) + 1);
        else build(fr[i], silent0 + (unsigned)((k / 10) % 65536), (int)(k % 10) + 1);
    }
    if (ring) {
        /* TPACKET_V2: 32-byte frame header, then the data; 10-byte virtio_net_hdr with
         * hdr_len (bytes 2-3) = the frame's length. */
        int v2 = 1, vnet = 1;
        struct tpacket_req r = {1 << 16, 64, 256, (1 << 16) / 256 * 64};
        struct sockaddr_ll b = {0};
        b.sll_family = AF_PACKET;
        b.sll_ifindex = ifindex;
        if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof v2) ||
            setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &vnet, sizeof vnet) ||
            setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &r, sizeof r) ||
            bind(fd, (struct sockaddr *)&b, sizeof b)) {
            perror("bench_ceiling: transmit ring");
            exit(1);
        }
        unsigned char *map = mmap(NULL, (size_t)r.tp_block_size * r.tp_block_nr,
                                  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) { perror("bench_ceiling: mmap"); exit(1); }
        unsigned cur = 0;
        pthread_barrier_wait(&ready);
        for (int i = 0; i < per_thread; i++) {
            unsigned char *slot = map + (size_t)cur * r.tp_frame_size;
            unsigned *status = (unsigned *)slot;
            while (__atomic_load_n(status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) {
                send(fd, NULL, 0, MSG_DONTWAIT);
                struct pollfd p = {fd, POLLOUT, 0};
                poll(&p, 1, 1);
            }
            unsigned char *d = slot + 32;
            memset(d, 0, 10);
            unsigned short hl = FRAME;
            memcpy(d + 2, &hl, 2);
            memcpy(d + 10, fr[i], FRAME);
            unsigned len = FRAME + 10;
            memcpy(slot + 4, &len, 4);
            __atomic_store_n(status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
            cur = (cur + 1) % r.tp_frame_nr;
            if (i % BATCH == BATCH - 1) send(fd, NULL, 0, MSG_DONTWAIT);
        }
        while (send(fd, NULL, 0, 0) < 0 && (errno == EAGAIN || errno == ENOBUFS)) {}
        free(fr);
        return NULL;
    }
    struct mmsghdr m[BATCH];
    struct iovec v[BATCH];
    pthread_barrier_wait(&ready);
    for (int i = 0; i < per_thread; i += BATCH) {
        int n = per_thread - i < BATCH ? per_thread - i : BATCH;
        for (int j = 0; j < n; j++) {
            v[j].iov_base = fr[i + j];
            v[j].iov_len = FRAME;
            memset(&m[j], 0, sizeof m[j]);
            m[j].msg_hdr.msg_iov = &v[j];
            m[j].msg_hdr.msg_iovlen = 1;
            m[j].msg_hdr.msg_name = &a;
            m[j].msg_hdr.msg_namelen = sizeof a;
        }
        for (int done = 0; done < n;) {
            int r = sendmmsg(fd, m + done, (unsigned)(n - done), 0);
            if (r > 0) done += r;
        }
    }
    free(fr);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: bench_ceiling answered|silent THREADS PROBES DST_MAC SRC_MAC IFNAME [sendmmsg|ring]\n");
        return 2;
    }
    ring = argc == 8 && strcmp(argv[7], "ring") == 0;
    answered = strcmp(argv[1], "answered") == 0;
    int threads = atoi(argv[2]), probes = atoi(argv[3]);
    if (threads < 1 || threads > 64 || probes < threads) return 2;
    per_thread = probes / threads;
    sscanf(argv[4], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dmac[0], &dmac[1], &dmac[2], &dmac[3], &dmac[4], &dmac[5]);
    sscanf(argv[5], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &smac[0], &smac[1], &smac[2], &smac[3], &smac[4], &smac[5]);
    ifindex = (int)if_nametoindex(argv[6]);
    if (!ifindex) { perror(argv[6]); return 1; }
    pthread_t t[64];
    pthread_barrier_init(&ready, NULL, (unsigned)threads + 1);
    for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, run, (void *)i);
    pthread_barrier_wait(&ready);
    double s = now();
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    double d = now() - s;
    printf("%d probes in %.3f s, %.0f probes/s\n", per_thread * threads, d, per_thread * threads / d);
    return 0;
}
