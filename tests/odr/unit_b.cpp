#include <ink/ink.hpp>
#include <ink/io.hpp>
int unit_b_value() { return ink::get_num_threads(); }
float unit_b_decode(const ink::io::Bytes& png) { return ink::io::decode_image(png.data(), png.size()).min().item(); }
