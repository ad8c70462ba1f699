// libFuzzer target: arbitrary bytes as an IDX file (raw, or gzip when they start 1f 8b).
// decode_idx must return a tensor or throw ink::Error; anything else is a bug.
#include <ink/io/idx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ink::Tensor<float> t = ink::io::decode_idx<float>(data, size, "fuzz", true);
    (void)t.numel();
    (void)ink::io::decode_idx<std::int64_t>(data, size, "fuzz");
  } catch (const ink::Error&) {
  }
  return 0;
}
