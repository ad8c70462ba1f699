// With unit_b.cpp: <ink/ink.hpp> in two translation units of one program must link.
#include <ink/ink.hpp>
int unit_b_value();
int main() { return unit_b_value() == ink::get_num_threads() ? 0 : 1; }
