// With unit_b.cpp: <ink/ink.hpp> in two translation units of one program must link. Both units
// use stb (encode here, decode there), which ink compiles into each with internal linkage.
#include <ink/ink.hpp>
#include <ink/io.hpp>
int unit_b_value();
float unit_b_decode(const ink::io::Bytes& png);
int main() {
  const ink::Tensor<float> image = ink::full<float>({1, 2, 3}, 1.0f);
  const bool ok = unit_b_decode(ink::io::encode_png(image)) == 1.0f;
  return ok && unit_b_value() == ink::get_num_threads() ? 0 : 1;
}
