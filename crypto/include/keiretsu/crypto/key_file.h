// Key files: a firm's secret key on disk.
//
// Format (one line of text, see docs/PROTOCOL.md "Key files"):
//   keiretsu-ed25519-secret-v1 <64 hex chars: the 32-byte seed>\n
// The file is created with mode 0600 and never overwritten. Loading refuses
// a file that group or others can read, so a key copied carelessly is
// noticed before it is used. The seed is parsed straight into secure memory.
#pragma once

#include <string>

#include "keiretsu/common/status.h"
#include "keiretsu/crypto/signing.h"

namespace keiretsu::crypto {

// Writes `key` to a new file at `path` (mode 0600, fsynced).
// Errors: kAlreadyExists if the file exists; kIOError otherwise.
Status WriteKeyFile(const std::string& path, const SigningKey& key);

// Loads the key at `path`.
// Errors: kNotFound (no file), kPermissionDenied (group/world permissions:
// the message says how to fix them), kInvalidArgument (not a key file),
// kIOError.
Result<SigningKey> ReadKeyFile(const std::string& path);

}  // namespace keiretsu::crypto
