// The main demo: what ink can do so far, printed so that a person can check it.
#include <cstdio>

#include <ink/ink.hpp>

int main() {
  ink::manual_seed(42);
  std::printf("ink %d.%d.%d, kernels use %s, %d threads\n", INK_VERSION_MAJOR, INK_VERSION_MINOR,
              INK_VERSION_PATCH, ink::isa_name(ink::active_isa()), ink::get_num_threads());
  return 0;
}
