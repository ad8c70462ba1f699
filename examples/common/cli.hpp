// Command-line flags shared by the example programs: --epochs --batch-size --lr --threads
// --seed --data --out, plus each program's own. Example support code, not part of the library.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

#include <ink/ink.hpp>
#include <ink/io.hpp>

namespace examples {

class Flags {
 public:
  // Registers a flag with its default and help text.
  void add(const std::string& name, const std::string& def, const std::string& help) {
    values_[name] = def;
    help_[name] = help;
  }
  // Parses --name value and --name=value; --help prints the flags and exits.
  void parse(int argc, char** argv, const char* what) {
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::printf("%s\n\nflags:\n", what);
        for (auto& [k, v] : values_) std::printf("  --%-14s %s (default: %s)\n", k.c_str(), help_[k].c_str(), v.c_str());
        std::exit(0);
      }
      if (arg.rfind("--", 0) != 0) fail("unexpected argument '" + arg + "'");
      std::string name = arg.substr(2), value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (values_.count(name) && (values_[name] == "false" || values_[name] == "true") &&
                 (i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0)) {
        value = "true";  // a boolean flag given alone
      } else {
        if (i + 1 >= argc) fail("--" + name + " needs a value");
        value = argv[++i];
      }
      if (!values_.count(name)) fail("unknown flag --" + name + " (see --help)");
      values_[name] = value;
    }
  }
  std::string str(const std::string& n) const { return values_.at(n); }
  double num(const std::string& n) const {
    try {
      return std::stod(values_.at(n));
    } catch (const std::exception&) {
      fail("--" + n + " expects a number, got '" + values_.at(n) + "'");
    }
  }
  long integer(const std::string& n) const { return static_cast<long>(num(n)); }
  bool flag(const std::string& n) const { return values_.at(n) == "true" || values_.at(n) == "1"; }

  [[noreturn]] static void fail(const std::string& msg) {
    std::fprintf(stderr, "error: %s\n", msg.c_str());
    std::exit(2);
  }

 private:
  std::map<std::string, std::string> values_, help_;
};

// The flags every training example has.
inline void add_common_flags(Flags& f, const char* epochs, const char* batch, const char* lr, const char* out) {
  f.add("epochs", epochs, "training epochs");
  f.add("batch-size", batch, "examples per step");
  f.add("lr", lr, "learning rate");
  f.add("threads", "0", "threads (0: all cores)");
  f.add("seed", "1", "random seed (weights, shuffling, dropout, noise)");
  f.add("data", ink::io::default_fashion_mnist_root().string(), "Fashion-MNIST folder (Debian: dataset-fashion-mnist)");
  f.add("out", out, "output folder");
  f.add("resume", "false", "continue from the checkpoint in --out");
  f.add("limit", "0", "use only the first N training images (0: all), for quick runs");
}

// Applies --threads and --seed, creates --out; returns the output folder.
inline std::filesystem::path setup(const Flags& f) {
  if (f.integer("threads") > 0) ink::set_num_threads(static_cast<int>(f.integer("threads")));
  ink::manual_seed(static_cast<std::uint64_t>(f.integer("seed")));
  const std::filesystem::path out = f.str("out");
  std::filesystem::create_directories(out);
  return out;
}

// Loads a Fashion-MNIST split; a missing or corrupt folder ends the program with the reason
// (which names the Debian package and the --data flag).
inline std::shared_ptr<ink::io::FashionMNIST> load_fashion_mnist(const Flags& f, ink::io::Split split) {
  try {
    return std::make_shared<ink::io::FashionMNIST>(split, f.str("data"));
  } catch (const ink::Error& e) {
    Flags::fail(std::string(e.what()) + "\n(point --data at a folder with the Fashion-MNIST IDX files)");
  }
}

// The training set, or with --limit N its first N examples (for quick runs).
inline std::shared_ptr<const ink::io::Dataset> training_subset(const Flags& f, const ink::io::TensorDataset& train) {
  const long limit = f.integer("limit");
  const ink::index_t n = limit > 0 ? std::min<ink::index_t>(limit, train.images().size(0)) : train.images().size(0);
  return std::make_shared<ink::io::TensorDataset>(train.images().narrow(0, 0, n), train.labels().narrow(0, 0, n));
}

}  // namespace examples
