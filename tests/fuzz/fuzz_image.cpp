// libFuzzer target: arbitrary bytes as a PNG / JPEG / BMP image. decode_image must return an
// image or throw ink::Error. The pixel limit is lowered so that a header claiming a huge
// image is refused quickly instead of timing out the fuzzer.
#include <ink/io/image.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const ink::Tensor<float> t = ink::io::decode_image(data, size, {.max_pixels = 1 << 20}, "fuzz");
    (void)t.numel();
  } catch (const ink::Error&) {
  }
  return 0;
}
