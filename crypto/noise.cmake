# The Noise handshake (Noise_XXpsk0_25519_ChaChaPoly_BLAKE2b) and the
# transport cipher of peer links; see include/keiretsu/crypto/noise.h.
target_sources(keiretsu_crypto PRIVATE
  src/noise/primitives.cc
  src/noise/handshake_state.cc
  src/noise/noise.cc)
