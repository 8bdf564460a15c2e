#include "output.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>

namespace keiretsu::cli {

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::Row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> width(headers_.size(), 0);
  auto measure = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) width[i] = std::max(width[i], cells[i].size());
  };
  measure(headers_);
  for (const auto& r : rows_) measure(r);
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < cells.size(); ++i) {
      s += cells[i];
      if (i + 1 < cells.size()) s.append(width[i] - cells[i].size() + 2, ' ');
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << '\n';
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
}

std::string Printable(std::string_view text, size_t max) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    s.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  if (max > 3 && s.size() > max) {
    s.resize(max - 3);
    // Do not leave half of a UTF-8 sequence before the ellipsis.
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
    s += "...";
  }
  return s;
}

std::string MessageJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = false;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  // Only fails for messages with unresolvable Any fields, which the API has none of.
  if (!status.ok()) return "{}";
  return json;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string FlatJson(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out = "{";
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out += ",";
    out += JsonString(fields[i].first) + ":" + JsonString(fields[i].second);
  }
  return out + "}";
}

std::string ShortHex(const std::string& hex) {
  return hex.substr(0, 8);
}

std::string FirmLabel(const std::string& key_hex, const std::string& name) {
  if (!name.empty()) return Printable(name, 64);
  if (key_hex.empty()) return "?";
  return ShortHex(key_hex);
}

std::string FirmLabel(const keiretsu::v1::Firm& firm) {
  return FirmLabel(firm.public_key(), firm.name());
}

}  // namespace keiretsu::cli
