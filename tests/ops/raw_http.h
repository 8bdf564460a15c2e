// A deliberately raw HTTP client for the operations listener's tests: it
// sends exactly the bytes given (bad methods, long targets, bodies, one
// byte at a time) and reads what comes back, each wait bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>

namespace keiretsu::ops::http_test {

class RawHttp {
 public:
  // Connects to "127.0.0.1:port".
  explicit RawHttp(const std::string& address) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1))));
    ::inet_pton(AF_INET, address.substr(0, address.rfind(':')).c_str(), &sa.sin_addr);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
      throw std::runtime_error("cannot connect to " + address);
  }
  ~RawHttp() { Close(); }
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // False once the server closed the connection.
  bool Send(std::string_view bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Everything received until the server closes the connection or
  // `within` passes; `closed` says which.
  std::string ReadUntilClosed(std::chrono::milliseconds within, bool* closed = nullptr) {
    std::string got;
    const auto end = std::chrono::steady_clock::now() + within;
    if (closed != nullptr) *closed = false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return got;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return got;
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        if (closed != nullptr) *closed = true;
        return got;
      }
      got.append(buf, static_cast<size_t>(n));
    }
  }

  // True when something (data or the close) is ready to read now.
  bool Readable() {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

 private:
  int fd_ = -1;
};

// One request with `Connection: close`; the whole response.
inline std::string Exchange(const std::string& address, const std::string& request,
                            std::chrono::milliseconds within = std::chrono::seconds(10)) {
  RawHttp c(address);
  c.Send(request);
  return c.ReadUntilClosed(within);
}

inline int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::stoi(response.substr(9, 3));
}

// The value of header `name` (case-insensitive name), or "".
inline std::string HeaderOf(const std::string& response, const std::string& name) {
  size_t end = response.find("\r\n\r\n");
  std::string head = response.substr(0, end);
  std::string lower_head, lower_name;
  for (char c : head) lower_head += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char c : name) lower_name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lower_head.find("\r\n" + lower_name + ":");
  if (at == std::string::npos) return "";
  size_t from = at + 2 + name.size() + 1;
  size_t to = head.find("\r\n", from);
  std::string v = head.substr(from, to == std::string::npos ? std::string::npos : to - from);
  while (!v.empty() && v.front() == ' ') v.erase(0, 1);
  return v;
}

inline std::string BodyOf(const std::string& response) {
  size_t end = response.find("\r\n\r\n");
  return end == std::string::npos ? "" : response.substr(end + 4);
}

}  // namespace keiretsu::ops::http_test
