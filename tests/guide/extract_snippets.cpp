// Build-time tool: turns every ```cpp block of a Markdown file into a function of one C++
// program, so that the snippets in docs/guide.md are compiled and run by the test suite and
// cannot drift from the code. Usage: extract_snippets guide.md out.cpp
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: extract_snippets INPUT.md OUTPUT.cpp\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "extract_snippets: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::vector<std::string> snippets;
  std::vector<int> first_lines;
  std::string line, current;
  bool inside = false;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!inside && line.rfind("```cpp", 0) == 0) {
      inside = true;
      current.clear();
      first_lines.push_back(number + 1);
    } else if (inside && line.rfind("```", 0) == 0) {
      inside = false;
      snippets.push_back(current);
    } else if (inside) {
      current += line + "\n";
    }
  }
  if (inside) {
    std::cerr << argv[1] << ": unterminated ```cpp block\n";
    return 1;
  }
  std::ostringstream out;
  out << "// Generated from " << argv[1] << " by extract_snippets; do not edit.\n"
      << "#include <iostream>\n#include <ink/eigen.hpp>\n#include <ink/ink.hpp>\n#include <ink/io.hpp>\nusing namespace ink;\n";
  for (std::size_t i = 0; i < snippets.size(); ++i)
    out << "static void snippet_" << i << "() {\n#line " << first_lines[i] << " \"" << argv[1] << "\"\n"
        << snippets[i] << "}\n";
  out << "int main() {\n";
  for (std::size_t i = 0; i < snippets.size(); ++i)
    out << "  std::cout << \"--- snippet " << i << " (line " << first_lines[i] << ")\\n\";\n  snippet_" << i << "();\n";
  out << "  std::cout << \"" << snippets.size() << " snippets ran\\n\";\n}\n";
  std::ofstream(argv[2]) << out.str();
  return snippets.empty() ? 1 : 0;
}
