// Key files: a firm's secret key on disk.
//
// Format (one line of text, see docs/PROTOCOL.md "Key files"):
//   keiretsu-ed25519-secret-v1 <64 hex chars: the 32-byte seed>\n
// The file is created with mode 0600 and never overwritten in place; only a
// key rotation replaces it, by renaming a staged file over it (below). Loading refuses
// a file that group or others can read, so a key copied carelessly is
// noticed before it is used. The seed is parsed straight into secure memory.
#pragma once

#include <string>
#include <string_view>

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

// A key's 32-byte seed from 64 hex digits (the secret of a key file), parsed
// straight into secure memory. Errors: kInvalidArgument (not 64 hex digits).
Result<SigningKey> SigningKeyFromSeedHex(std::string_view hex);

// Key rotation (docs/API.md "Rotation"). The new key is first staged beside
// the key file, as `<path>.next`, then the rotation is committed to the
// ledger, then the staged file replaces the key file. A crash between the
// steps leaves either no rotation (the staged file is discarded at the next
// start) or a committed rotation whose key is in `<path>.next` (promoted at
// the next start). Every step is atomic: temporary file, fsync, rename,
// fsync of the directory.
std::string StagedKeyPath(const std::string& path);  // path + ".next"
// Writes `key` to StagedKeyPath(path) (mode 0600), replacing a staged key.
// Errors: kIOError.
Status StageKeyFile(const std::string& path, const SigningKey& key);
// Renames StagedKeyPath(path) over `path`. Errors: kNotFound (nothing
// staged), kIOError.
Status PromoteStagedKeyFile(const std::string& path);
// Removes StagedKeyPath(path) if present. Errors: kIOError.
Status DiscardStagedKeyFile(const std::string& path);

}  // namespace keiretsu::crypto
