// ParseStrict: a descriptor-driven walk over the wire bytes, then the
// ordinary parse. See strict_parse.h for what it refuses and why.
#include "keiretsu/proto/strict_parse.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <set>
#include <string>

namespace keiretsu::proto {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::io::CodedInputStream;
using WFL = google::protobuf::internal::WireFormatLite;

constexpr int kMaxDepth = 32;

WFL::WireType DeclaredWireType(const FieldDescriptor& f) {
  return WFL::WireTypeForFieldType(static_cast<WFL::FieldType>(f.type()));
}

std::string Describe(const FieldDescriptor& f) {
  return "field " + f.name() + " (" + std::to_string(f.number()) + ")";
}

class Walker {
 public:
  explicit Walker(const StrictOptions& options) : options_(options) {}

  // Checks one message's bytes. `path` names where it sits ("" at the top).
  Status Walk(std::string_view wire, const Descriptor& type, const std::string& path, int depth) {
    if (depth > kMaxDepth)
      return Refuse(path, type, "is nested more than " + std::to_string(kMaxDepth) + " deep");
    CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                        static_cast<int>(wire.size()));
    std::set<int> seen_fields;
    std::set<int> seen_oneofs;
    for (;;) {
      uint32_t tag = in.ReadTag();
      if (tag == 0) {
        if (in.CurrentPosition() != static_cast<int>(wire.size()))
          return Refuse(path, type, "has a malformed or zero field tag");
        return Status::Ok();
      }
      const int number = static_cast<int>(WFL::GetTagFieldNumber(tag));
      const WFL::WireType wt = WFL::GetTagWireType(tag);
      const FieldDescriptor* f = type.FindFieldByNumber(number);
      if (f == nullptr) {
        if (!options_.allow_unknown_fields)
          return Refuse(path, type, "has unknown field number " + std::to_string(number));
        if (wt == WFL::WIRETYPE_START_GROUP || wt == WFL::WIRETYPE_END_GROUP)
          return Refuse(path, type, "has a group (field " + std::to_string(number) + ")");
        if (!WFL::SkipField(&in, tag))
          return Refuse(path, type, "is truncated in field " + std::to_string(number));
        continue;
      }
      if (Status s = Field(in, tag, *f, wt, type, path, depth, seen_fields, seen_oneofs); !s.ok())
        return s;
    }
  }

 private:
  Status Field(CodedInputStream& in, uint32_t tag, const FieldDescriptor& f, WFL::WireType wt,
               const Descriptor& type, const std::string& path, int depth,
               std::set<int>& seen_fields, std::set<int>& seen_oneofs) {
    const bool packed_ok =
        f.is_repeated() && f.is_packable() && wt == WFL::WIRETYPE_LENGTH_DELIMITED;
    if (wt != DeclaredWireType(f) && !packed_ok)
      return Refuse(path, type, Describe(f) + " has the wrong wire type");
    if (!f.is_repeated() && !seen_fields.insert(f.number()).second)
      return Refuse(path, type, Describe(f) + " appears more than once");
    if (const auto* oneof = f.real_containing_oneof()) {
      if (!seen_oneofs.insert(oneof->index()).second)
        return Refuse(path, type, "sets more than one member of oneof " + oneof->name());
    }
    if (wt != WFL::WIRETYPE_LENGTH_DELIMITED) {
      if (!WFL::SkipField(&in, tag)) return Refuse(path, type, Describe(f) + " is truncated");
      return Status::Ok();
    }
    uint32_t length = 0;
    std::string bytes;
    if (!in.ReadVarint32(&length) || !in.ReadString(&bytes, static_cast<int>(length)))
      return Refuse(path, type, Describe(f) + " is truncated");
    if (packed_ok) return Status::Ok();  // the ordinary parse checks the packed values
    if (f.type() == FieldDescriptor::TYPE_STRING && !IsValidUtf8(bytes))
      return Refuse(path, type, Describe(f) + " is not valid UTF-8");
    if (f.type() == FieldDescriptor::TYPE_MESSAGE) {
      std::string inner = path.empty() ? f.name() : path + "." + f.name();
      return Walk(bytes, *f.message_type(), inner, depth + 1);
    }
    return Status::Ok();
  }

  static Status Refuse(const std::string& path, const Descriptor& type, const std::string& what) {
    std::string where = type.full_name();
    if (!path.empty()) where += " (in " + path + ")";
    return InvalidArgument(where + ": " + what);
  }

  const StrictOptions& options_;
};

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07;
    } else {
      return false;  // a continuation byte or 0xF8..0xFF where a sequence starts
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

Status ParseStrict(std::string_view wire, google::protobuf::Message* out,
                   const StrictOptions& options) {
  out->Clear();
  const Descriptor& type = *out->GetDescriptor();
  if (wire.size() > static_cast<size_t>(INT32_MAX))
    return InvalidArgument(type.full_name() + ": message too large");
  Walker walker(options);
  if (Status s = walker.Walk(wire, type, "", 0); !s.ok()) return s;
  if (!out->ParseFromArray(wire.data(), static_cast<int>(wire.size())))
    return InvalidArgument(type.full_name() + ": malformed protobuf");
  return Status::Ok();
}

}  // namespace keiretsu::proto
