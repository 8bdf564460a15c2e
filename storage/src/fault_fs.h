// Private: how the store reaches a FaultInjector's file system.
#pragma once

#include <rocksdb/env.h>

#include "keiretsu/storage/fault_injector.h"

namespace keiretsu::storage {

class FaultInjectorAccess {
 public:
  // The Env whose file system injects `f`'s faults; lives as long as `f`.
  static rocksdb::Env* Env(FaultInjector& f);
};

}  // namespace keiretsu::storage
