#include <ink/ink.hpp>
int unit_b_value() { return ink::get_num_threads(); }
