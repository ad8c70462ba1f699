// libFuzzer target: arbitrary bytes as a safetensors file, decoded as float and as int64.
// decode_safetensors must return tensors or throw ink::Error; anything else is a bug.
#include <ink/io/safetensors.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    ink::io::Metadata meta;
    (void)ink::io::decode_safetensors<float>(data, size, "fuzz", &meta);
  } catch (const ink::Error&) {
  }
  try {
    (void)ink::io::decode_safetensors<std::int64_t>(data, size, "fuzz");
  } catch (const ink::Error&) {
  }
  return 0;
}
