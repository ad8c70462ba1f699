// A user's program built against an installed ink.
#include <cstdio>

#include <ink/ink.hpp>
#include <ink/io.hpp>

int main() {
  std::printf("consumer: ink %d.%d, isa %s\n", INK_VERSION_MAJOR, INK_VERSION_MINOR,
              ink::isa_name(ink::active_isa()));
  return 0;
}
