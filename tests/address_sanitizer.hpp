// Whether this test binary runs under AddressSanitizer, whose allocator reports an allocation
// it cannot make and stops instead of failing it: tests of allocation failures skip there.
#pragma once

namespace hf::testing {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kUnderAddressSanitizer = true;
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

}  // namespace hf::testing
