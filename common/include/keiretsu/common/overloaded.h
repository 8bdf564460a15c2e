// Overloaded{f, g, ...}: one visitor from several lambdas, for std::visit.
// Give one lambda per alternative (no generic `auto` fallback) and the
// compiler refuses a visit that misses an alternative.
#pragma once

namespace keiretsu {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

}  // namespace keiretsu
