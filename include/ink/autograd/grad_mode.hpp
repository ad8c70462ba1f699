// Grad mode: whether ops record the graph. Thread-local, on by default, as in PyTorch.
// NoGradGuard turns it off for a scope (inference, optimiser updates). Part of autograd/.
#pragma once

namespace ink {

class GradMode {
 public:
  static bool is_enabled() { return flag(); }
  static void set_enabled(bool on) { flag() = on; }

 private:
  static bool& flag() {
    thread_local bool on = true;
    return on;
  }
};

// Sets grad mode for the lifetime of the guard and restores the previous mode after.
class AutoGradMode {
 public:
  explicit AutoGradMode(bool on) : previous_(GradMode::is_enabled()) { GradMode::set_enabled(on); }
  ~AutoGradMode() { GradMode::set_enabled(previous_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool previous_;
};

// No graph is recorded while a NoGradGuard lives.
class NoGradGuard : public AutoGradMode {
 public:
  NoGradGuard() : AutoGradMode(false) {}
};

}  // namespace ink
