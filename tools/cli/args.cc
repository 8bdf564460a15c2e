#include "args.h"

#include <charconv>

#include "keiretsu/common/bytes.h"
#include "keiretsu/protocol/limits.h"

namespace keiretsu::cli {
namespace {

std::string Quoted(std::string_view s) {
  // Long garbage is cut so the error stays one readable line.
  std::string q(s.substr(0, 40));
  if (s.size() > 40) q += "...";
  return "'" + q + "'";
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<uint64_t> ParsePositive(std::string_view text, std::string_view what) {
  // from_chars alone would accept a prefix ("12abc"); AllDigits refuses signs,
  // spaces, exponents and trailing junk.
  if (!AllDigits(text))
    return InvalidArgument(std::string(what) + " must be a positive whole number, got " +
                           Quoted(text));
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size())
    return InvalidArgument(std::string(what) + " " + Quoted(text) + " is too large");
  if (v == 0) return InvalidArgument(std::string(what) + " must be positive, got 0");
  return v;
}

Result<uint64_t> ParseAmount(std::string_view text, std::string_view what) {
  KEIRETSU_ASSIGN_OR_RETURN(uint64_t v, ParsePositive(text, what));
  if (v > protocol::kMaxAmount)
    return InvalidArgument(std::string(what) + " " + Quoted(text) + " is above the limit of " +
                           std::to_string(protocol::kMaxAmount));
  return v;
}

Result<std::string> ParseHex64(std::string_view text, std::string_view what) {
  auto h = Hash32FromHex(text);
  if (!h || text.size() != 64)
    return InvalidArgument(std::string(what) + " must be 64 hex characters, got " + Quoted(text));
  return ToHex(*h);
}

Result<std::pair<std::string, std::string>> ParseNamed(std::string_view text,
                                                       std::string_view what) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size())
    return InvalidArgument(std::string(what) + " must look like name=value, got " + Quoted(text));
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

Status CheckHostPort(std::string_view text, std::string_view what) {
  size_t colon = text.rfind(':');
  bool ok = colon != std::string_view::npos && colon > 0;
  if (ok) {
    std::string_view host = text.substr(0, colon);
    if (host.front() == '[')
      ok = host.size() > 2 && host.back() == ']';
    else
      ok = host.find(':') == std::string_view::npos;  // bare IPv6 needs brackets
  }
  if (ok) {
    std::string_view port = text.substr(colon + 1);
    unsigned p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    ok = AllDigits(port) && ec == std::errc() && ptr == port.data() + port.size() && p >= 1 &&
         p <= 65535;
  }
  if (!ok)
    return InvalidArgument(std::string(what) + " must be host:port (port 1-65535), got " +
                           Quoted(text));
  return Status::Ok();
}

}  // namespace keiretsu::cli
