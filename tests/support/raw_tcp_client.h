// RawTcpClient: a blocking TCP connection for tests (see the class).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>

namespace keiretsu::testing {

// A plain TCP client connection to 127.0.0.1:`port`, optionally from a
// chosen source address (all of 127.0.0.0/8 is loopback on Linux), for tests
// of listeners below any protocol: connection caps, floods.
class RawTcpClient {
 public:
  explicit RawTcpClient(int port, const char* from = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};  // a broken gate fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (from != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        throw std::runtime_error("bind " + std::string(from));
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~RawTcpClient() { Close(); }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd() const { return fd_; }
  // Sends `text` and reads back as many bytes (an echo server's answer).
  // Empty when the connection was closed or reset instead.
  std::string RoundTrip(const std::string& text) {
    if (!connected_ || ::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      return "";
    std::string got;
    char buf[256];
    while (got.size() < text.size()) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) return "";
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  // True when the gate closed this connection (EOF or reset on read).
  bool ClosedByPeer() {
    char c;
    ssize_t n = ::read(fd_, &c, 1);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace keiretsu::testing
