// lnsd's native addon, part two: the batched system calls of the data plane. Each function is one
// system call, or one loop of the same system call over a batch, on memory the caller owns (a
// Uint8Array of fixed-size slots and typed arrays of lengths and addresses). Nothing here parses
// or decides; packet work is TypeScript (packages/dataplane/src/worker.ts).
#include <napi.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

constexpr uint32_t kMaxBatch = 256;

Napi::Value ThrowErrno(Napi::Env env, const char* what, int err) {
  Napi::Error e = Napi::Error::New(env, std::string(what) + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : "EIO"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool ArgsOk(const Napi::CallbackInfo& info, size_t n, const char* usage) {
  if (info.Length() < n) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

template <typename T>
struct View {
  T* data;
  size_t length;  // in elements
  T& operator[](size_t i) const { return data[i]; }
};

// Typed arrays are taken as they are: the caller keeps them alive across the call (it is synchronous).
template <typename T>
bool GetView(const Napi::Value& v, napi_typedarray_type type, View<T>* out) {
  if (!v.IsTypedArray()) return false;
  Napi::TypedArray ta = v.As<Napi::TypedArray>();
  if (ta.TypedArrayType() != type) return false;
  Napi::ArrayBuffer ab = ta.ArrayBuffer();
  out->data = reinterpret_cast<T*>(static_cast<uint8_t*>(ab.Data()) + ta.ByteOffset());
  out->length = ta.ElementLength();
  return true;
}

int32_t Int(const Napi::Value& v) { return v.As<Napi::Number>().Int32Value(); }
uint32_t Uint(const Napi::Value& v) { return v.As<Napi::Number>().Uint32Value(); }

// udpOpen(address: string, port: number, reusePort: boolean, bufferBytes: number): fd
// An IPv4 UDP socket, non-blocking, bound; with SO_REUSEPORT several sockets share address:port.
Napi::Value UdpOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 4, "udpOpen(address, port, reusePort, bufferBytes)")) return env.Undefined();
  std::string address = info[0].As<Napi::String>().Utf8Value();
  int port = Int(info[1]);
  bool reuse = info[2].As<Napi::Boolean>().Value();
  int bufBytes = Int(info[3]);
  struct sockaddr_in sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1) {
    Napi::TypeError::New(env, "udpOpen: not an IPv4 address: " + address).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "setsockopt SO_REUSEPORT", err);
  }
  if (bufBytes > 0) {
    // Best effort: the kernel caps these at net.core.[rw]mem_max.
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufBytes, sizeof bufBytes);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufBytes, sizeof bufBytes);
  }
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind", err);
  }
  return Napi::Number::New(env, fd);
}

// udpLocalPort(fd): the bound port (for port 0).
Napi::Value UdpLocalPort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 1, "udpLocalPort(fd)")) return env.Undefined();
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (getsockname(Int(info[0]), reinterpret_cast<struct sockaddr*>(&sa), &len) < 0) return ThrowErrno(env, "getsockname", errno);
  return Napi::Number::New(env, ntohs(sa.sin_port));
}

// udpSteer(fd, groupSize): a classic BPF program on the SO_REUSEPORT group of fd that picks the
// socket for each datagram from its L2TP header (the program sees the UDP payload): control
// messages (T bit) by Tunnel ID, data messages by Tunnel ID xor Session ID, modulo groupSize.
// So one session's packets always reach the same socket, and so the same worker, in order.
Napi::Value UdpSteer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 2, "udpSteer(fd, groupSize)")) return env.Undefined();
  uint32_t n = Uint(info[1]);
  if (n == 0) n = 1;
  // RFC 2661 3.1: flags (T 0x80 and L 0x40 in the first byte), [Length], Tunnel ID, Session ID.
  // Jump offsets count from the next instruction.
  struct sock_filter prog_code[] = {
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),              // 0: A = first flags byte
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x80, 10, 0),  // 1: T set -> 12
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40, 4, 0),   // 2: L set -> 7
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 2),              // 3: A = Tunnel ID
      BPF_STMT(BPF_MISC | BPF_TAX, 0),                    // 4: X = A
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),              // 5: A = Session ID
      BPF_STMT(BPF_JMP | BPF_JA, 3),                      // 6: -> 10
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),              // 7: A = Tunnel ID (after Length)
      BPF_STMT(BPF_MISC | BPF_TAX, 0),                    // 8: X = A
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),              // 9: A = Session ID
      BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0),             // 10: A ^= X
      BPF_STMT(BPF_JMP | BPF_JA, 1),                      // 11: -> 13
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 4),              // 12: A = Tunnel ID (control has L)
      BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, n),             // 13: A %= n
      BPF_STMT(BPF_RET | BPF_A, 0),                       // 14: the socket's index in the group
  };
  struct sock_fprog prog;
  prog.len = sizeof prog_code / sizeof prog_code[0];
  prog.filter = prog_code;
  if (setsockopt(Int(info[0]), SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) < 0) return ThrowErrno(env, "setsockopt SO_ATTACH_REUSEPORT_CBPF", errno);
  return env.Undefined();
}

// udpRecv(fd, buf: Uint8Array, first: number, stride: number, max: number, lens: Int32Array,
//         addrs: Uint32Array): count
// recvmmsg(MSG_DONTWAIT): datagram i lands at buf[first + i*stride], at most stride - first bytes;
// lens[i] is its length, addrs[2i] the sender's IPv4 address (host order), addrs[2i+1] its port.
// Returns 0 when nothing is waiting.
Napi::Value UdpRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 7, "udpRecv(fd, buf, first, stride, max, lens, addrs)")) return env.Undefined();
  View<uint8_t> buf;
  View<int32_t> lens;
  View<uint32_t> addrs;
  if (!GetView(info[1], napi_uint8_array, &buf) || !GetView(info[5], napi_int32_array, &lens) || !GetView(info[6], napi_uint32_array, &addrs)) {
    Napi::TypeError::New(env, "udpRecv: buf Uint8Array, lens Int32Array, addrs Uint32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t first = Uint(info[2]), stride = Uint(info[3]), max = Uint(info[4]);
  if (max > kMaxBatch) max = kMaxBatch;
  if (stride <= first || (max > 0 && (static_cast<size_t>(max - 1) * stride + stride > buf.length || max > lens.length || 2 * max > addrs.length))) {
    Napi::RangeError::New(env, "udpRecv: batch does not fit the arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct mmsghdr msgs[kMaxBatch];
  struct iovec iov[kMaxBatch];
  struct sockaddr_in from[kMaxBatch];
  for (uint32_t i = 0; i < max; i++) {
    iov[i].iov_base = buf.data + static_cast<size_t>(i) * stride + first;
    iov[i].iov_len = stride - first;
    std::memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  int n = recvmmsg(Int(info[0]), msgs, max, MSG_DONTWAIT, nullptr);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Napi::Number::New(env, 0);
    // ICMP errors for earlier sends (ECONNREFUSED ...) surface here; they are no reason to stop.
    return Napi::Number::New(env, -errno);
  }
  for (int i = 0; i < n; i++) {
    // A datagram larger than the slot is cut: report it as such (the caller drops it).
    lens[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : static_cast<int32_t>(msgs[i].msg_len);
    addrs[2 * i] = ntohl(from[i].sin_addr.s_addr);
    addrs[2 * i + 1] = ntohs(from[i].sin_port);
  }
  return Napi::Number::New(env, n);
}

// udpSend(fd, buf, offsets: Int32Array, lens: Int32Array, addrs: Uint32Array, count): sent
// sendmmsg(MSG_DONTWAIT) of datagrams buf[offsets[i], +lens[i]) to addrs[2i]:addrs[2i+1].
// Returns how many the kernel took; the caller counts the rest as dropped.
Napi::Value UdpSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 6, "udpSend(fd, buf, offsets, lens, addrs, count)")) return env.Undefined();
  View<uint8_t> buf;
  View<int32_t> offsets, lens;
  View<uint32_t> addrs;
  if (!GetView(info[1], napi_uint8_array, &buf) || !GetView(info[2], napi_int32_array, &offsets) || !GetView(info[3], napi_int32_array, &lens) ||
      !GetView(info[4], napi_uint32_array, &addrs)) {
    Napi::TypeError::New(env, "udpSend: buf Uint8Array, offsets/lens Int32Array, addrs Uint32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t count = Uint(info[5]);
  if (count > offsets.length || count > lens.length || 2 * count > addrs.length) {
    Napi::RangeError::New(env, "udpSend: count exceeds the arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = Int(info[0]);
  uint32_t done = 0;
  while (done < count) {
    uint32_t batch = count - done > kMaxBatch ? kMaxBatch : count - done;
    struct mmsghdr msgs[kMaxBatch];
    struct iovec iov[kMaxBatch];
    struct sockaddr_in to[kMaxBatch];
    for (uint32_t j = 0; j < batch; j++) {
      uint32_t i = done + j;
      int32_t off = offsets[i], len = lens[i];
      if (off < 0 || len < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > buf.length) {
        Napi::RangeError::New(env, "udpSend: datagram outside buf").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      iov[j].iov_base = buf.data + off;
      iov[j].iov_len = static_cast<size_t>(len);
      std::memset(&to[j], 0, sizeof to[j]);
      to[j].sin_family = AF_INET;
      to[j].sin_addr.s_addr = htonl(addrs[2 * i]);
      to[j].sin_port = htons(static_cast<uint16_t>(addrs[2 * i + 1]));
      std::memset(&msgs[j].msg_hdr, 0, sizeof msgs[j].msg_hdr);
      msgs[j].msg_hdr.msg_iov = &iov[j];
      msgs[j].msg_hdr.msg_iovlen = 1;
      msgs[j].msg_hdr.msg_name = &to[j];
      msgs[j].msg_hdr.msg_namelen = sizeof to[j];
    }
    int n = sendmmsg(fd, msgs, batch, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      // EAGAIN (socket buffer full) or an ICMP error from an earlier send: skip one, go on.
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        done++;
        continue;
      }
      break;
    }
    done += static_cast<uint32_t>(n);
    if (static_cast<uint32_t>(n) < batch) break;
  }
  return Napi::Number::New(env, done);
}

// udpSendTo(fd, data: Uint8Array, address: number (host order), port): bytes or -errno
Napi::Value UdpSendTo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 4, "udpSendTo(fd, data, address, port)")) return env.Undefined();
  View<uint8_t> data;
  if (!GetView(info[1], napi_uint8_array, &data)) {
    Napi::TypeError::New(env, "udpSendTo: data Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct sockaddr_in to;
  std::memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(Uint(info[2]));
  to.sin_port = htons(static_cast<uint16_t>(Uint(info[3])));
  ssize_t n = sendto(Int(info[0]), data.data, data.length, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&to), sizeof to);
  return Napi::Number::New(env, n < 0 ? -errno : static_cast<double>(n));
}

// tunRead(fd, buf, first, stride, max, lens): count. read() until the queue is empty or max
// packets (TUN gives one packet per read); packet i at buf[first + i*stride].
Napi::Value TunRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 6, "tunRead(fd, buf, first, stride, max, lens)")) return env.Undefined();
  View<uint8_t> buf;
  View<int32_t> lens;
  if (!GetView(info[1], napi_uint8_array, &buf) || !GetView(info[5], napi_int32_array, &lens)) {
    Napi::TypeError::New(env, "tunRead: buf Uint8Array, lens Int32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = Int(info[0]);
  uint32_t first = Uint(info[2]), stride = Uint(info[3]), max = Uint(info[4]);
  if (stride <= first || (max > 0 && (static_cast<size_t>(max) * stride > buf.length || max > lens.length))) {
    Napi::RangeError::New(env, "tunRead: batch does not fit the arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t n = 0;
  while (n < max) {
    ssize_t r = read(fd, buf.data + static_cast<size_t>(n) * stride + first, stride - first);
    if (r < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: the queue is empty
    }
    lens[n++] = static_cast<int32_t>(r);
  }
  return Napi::Number::New(env, n);
}

// tunWrite(fd, buf, offsets, lens, count): packets written (one write() each; TUN has no batch).
Napi::Value TunWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 5, "tunWrite(fd, buf, offsets, lens, count)")) return env.Undefined();
  View<uint8_t> buf;
  View<int32_t> offsets, lens;
  if (!GetView(info[1], napi_uint8_array, &buf) || !GetView(info[2], napi_int32_array, &offsets) || !GetView(info[3], napi_int32_array, &lens)) {
    Napi::TypeError::New(env, "tunWrite: buf Uint8Array, offsets/lens Int32Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = Int(info[0]);
  uint32_t count = Uint(info[4]);
  if (count > offsets.length || count > lens.length) {
    Napi::RangeError::New(env, "tunWrite: count exceeds the arrays").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  uint32_t written = 0;
  for (uint32_t i = 0; i < count; i++) {
    int32_t off = offsets[i], len = lens[i];
    if (off < 0 || len <= 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > buf.length) continue;
    ssize_t r;
    do r = write(fd, buf.data + off, static_cast<size_t>(len));
    while (r < 0 && errno == EINTR);
    if (r >= 0) written++;
  }
  return Napi::Number::New(env, written);
}

// wait(fdA, fdB, wakeFd, timeoutMs): poll() for input; bit 1: fdA, 2: fdB, 4: wakeFd. A negative
// fd is left out. 0 on timeout.
Napi::Value Wait(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 4, "wait(fdA, fdB, wakeFd, timeoutMs)")) return env.Undefined();
  struct pollfd p[3];
  for (int i = 0; i < 3; i++) {
    p[i].fd = Int(info[i]);
    p[i].events = POLLIN;
    p[i].revents = 0;
  }
  int r;
  do r = poll(p, 3, Int(info[3]));
  while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, "poll", errno);
  int bits = 0;
  for (int i = 0; i < 3; i++) {
    if (p[i].revents != 0) bits |= 1 << i;
  }
  return Napi::Number::New(env, bits);
}

// eventFd(): a non-blocking eventfd, to wake a worker blocked in wait().
Napi::Value EventFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, "eventfd", errno);
  return Napi::Number::New(env, fd);
}

// eventFdSignal(fd): add 1 (wakes every poll on it until drained).
Napi::Value EventFdSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 1, "eventFdSignal(fd)")) return env.Undefined();
  uint64_t one = 1;
  ssize_t r = write(Int(info[0]), &one, sizeof one);
  (void)r;
  return env.Undefined();
}

// tunSteer(fd): an eBPF program on the multi-queue TUN device that picks the queue of every packet
// the kernel sends to it from the packet alone: the IPv4 destination, or for IPv6 the 32 bits after
// the /64 (where ipv6_prefix addresses carry the session's IPv4 address), folded. Without it the
// kernel's flow table moves a flow to the queue that last wrote a packet of it, and a download
// that the subscriber starts answering mid-burst arrives out of order. Returns the program's fd.
Napi::Value TunSteer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 1, "tunSteer(fd)")) return env.Undefined();
  auto insn = [](uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    struct bpf_insn i;
    std::memset(&i, 0, sizeof i);
    i.code = code;
    i.dst_reg = dst & 0xf;
    i.src_reg = src & 0xf;
    i.off = off;
    i.imm = imm;
    return i;
  };
  // Legacy packet loads (BPF_LD | BPF_ABS) read from the packet's start, the IP header on TUN,
  // in host byte order, with the context in r6; a load past the end ends the program with 0.
  struct bpf_insn prog[] = {
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),  // 0: r6 = skb
      insn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 0),                      // 1: r0 = version byte
      insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 4),           // 2: r0 >>= 4
      insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, 6),             // 3: IPv6 -> 6
      insn(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 16),                     // 4: r0 = IPv4 destination
      insn(BPF_JMP | BPF_JA, 0, 0, 1, 0),                              // 5: -> 7
      insn(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 32),                     // 6: r0 = IPv6 destination bits 64..95
      insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_0, 0, 0),   // 7: r1 = r0
      insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_1, 0, 0, 16),          // 8: r1 >>= 16
      insn(BPF_ALU64 | BPF_XOR | BPF_X, BPF_REG_0, BPF_REG_1, 0, 0),   // 9: r0 ^= r1
      insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0xffff),      // 10: r0 &= 0xffff
      insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                            // 11: the queue (mod queues)
  };
  static const char license[] = "GPL";
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = sizeof prog / sizeof prog[0];
  attr.insns = reinterpret_cast<uint64_t>(prog);
  attr.license = reinterpret_cast<uint64_t>(license);
  int progFd = static_cast<int>(syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr));
  if (progFd < 0) return ThrowErrno(env, "bpf BPF_PROG_LOAD", errno);
  if (ioctl(Int(info[0]), TUNSETSTEERINGEBPF, &progFd) < 0) {
    int err = errno;
    close(progFd);
    return ThrowErrno(env, "ioctl TUNSETSTEERINGEBPF", err);
  }
  return Napi::Number::New(env, progFd);
}

// setNonBlocking(fd): O_NONBLOCK, for a TUN queue read in batches.
Napi::Value SetNonBlocking(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 1, "setNonBlocking(fd)")) return env.Undefined();
  int fd = Int(info[0]);
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return ThrowErrno(env, "fcntl O_NONBLOCK", errno);
  return env.Undefined();
}

// closeFd(fd)
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 1, "closeFd(fd)")) return env.Undefined();
  close(Int(info[0]));
  return env.Undefined();
}

// unixDgramSend(path, data): one datagram to a unix socket (syslog's /dev/log); throws on error.
Napi::Value UnixDgramSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!ArgsOk(info, 2, "unixDgramSend(path, data)")) return env.Undefined();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  View<uint8_t> data;
  if (!GetView(info[1], napi_uint8_array, &data)) {
    Napi::TypeError::New(env, "unixDgramSend: data Uint8Array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  struct sockaddr_un sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    Napi::RangeError::New(env, "unixDgramSend: path too long").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::memcpy(sa.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket AF_UNIX", errno);
  ssize_t r = sendto(fd, data.data, data.length, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa);
  int err = errno;
  close(fd);
  if (r < 0) return ThrowErrno(env, ("sendto " + path).c_str(), err);
  return env.Undefined();
}

}  // namespace

void InitIo(Napi::Env env, Napi::Object exports) {
  exports.Set("udpOpen", Napi::Function::New(env, UdpOpen));
  exports.Set("udpLocalPort", Napi::Function::New(env, UdpLocalPort));
  exports.Set("udpSteer", Napi::Function::New(env, UdpSteer));
  exports.Set("udpRecv", Napi::Function::New(env, UdpRecv));
  exports.Set("udpSend", Napi::Function::New(env, UdpSend));
  exports.Set("udpSendTo", Napi::Function::New(env, UdpSendTo));
  exports.Set("tunRead", Napi::Function::New(env, TunRead));
  exports.Set("tunWrite", Napi::Function::New(env, TunWrite));
  exports.Set("wait", Napi::Function::New(env, Wait));
  exports.Set("eventFd", Napi::Function::New(env, EventFd));
  exports.Set("eventFdSignal", Napi::Function::New(env, EventFdSignal));
  exports.Set("setNonBlocking", Napi::Function::New(env, SetNonBlocking));
  exports.Set("tunSteer", Napi::Function::New(env, TunSteer));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("unixDgramSend", Napi::Function::New(env, UnixDgramSend));
}
