// A progress bar for long loops: count / total, rate, elapsed time and ETA, plus live fields
// such as the loss. On a terminal it redraws one line in place; into a file or pipe (a CI log)
// it prints a plain line every few percent or seconds instead. Part of io/.
#pragma once
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "ink/core/error.hpp"

namespace ink::io {

struct ProgressOptions {
  std::string description;     // printed before the bar
  std::FILE* stream = stderr;  // where to draw
  enum class Mode { automatic, terminal, lines } mode = Mode::automatic;  // automatic: isatty(stream)
  double redraw_seconds = 0.1;  // terminal: at most this often
  double line_seconds = 10;     // lines: at least this often while progressing ...
  int line_percent = 10;        // ... and whenever another this many percent are done
  int width = 30;               // bar width in characters
};

// Use: ProgressBar bar(n); for (...) { ...; bar.set("loss", l); bar.update(); } The destructor
// (or close()) draws the final state. total = 0 means unknown: no bar, percentage or ETA.
class ProgressBar {
 public:
  explicit ProgressBar(std::int64_t total, ProgressOptions o = {})
      : total_(total), o_(std::move(o)), start_(now_seconds()), last_draw_(start_) {
    INK_CHECK(ValueError, total >= 0, "ProgressBar: total must be non-negative, got ", total);
    terminal_ = o_.mode == ProgressOptions::Mode::terminal ||
                (o_.mode == ProgressOptions::Mode::automatic && o_.stream && ::isatty(::fileno(o_.stream)));
  }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { close(); }

  // Advances by n and redraws if due.
  void update(std::int64_t n = 1) {
    count_ += n;
    const double now = now_seconds();
    const double since = now - last_draw_;
    bool due;
    if (terminal_) {
      due = since >= o_.redraw_seconds || (total_ && count_ >= total_);
    } else {
      const int percent = total_ ? static_cast<int>(100 * std::min(count_, total_) / total_) : 0;
      due = since >= o_.line_seconds || (total_ && percent >= last_percent_ + o_.line_percent);
      if (due) last_percent_ = percent - (o_.line_percent > 0 ? percent % o_.line_percent : 0);
    }
    if (due) draw(now, false);
  }

  // Sets a live field shown after the counters ("loss=0.4321"); keeps first-set order.
  void set(const std::string& key, double value) {
    for (auto& [k, v] : fields_)
      if (k == key) {
        v = value;
        return;
      }
    fields_.emplace_back(key, value);
  }

  // Draws the final state once (ending the terminal line); a log that already shows the final
  // count gets no repeat.
  void close() {
    if (closed_) return;
    closed_ = true;
    if (terminal_ || drawn_count_ != count_) draw(now_seconds(), true);
  }

  // The text of the current state, as drawn (without line control characters).
  std::string line() const { return render(now_seconds()); }

 private:
  // Seconds on the monotonic clock (std::chrono::steady_clock's, on Linux), read through
  // POSIX: <chrono> brings C++20's calendar with it, ~0.1 s of every program's compile time.
  static double now_seconds() {
    timespec t{};
    ::clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
  }
  static std::string clock_text(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    const auto t = static_cast<long long>(s + 0.5);
    char buf[32];
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%02lld:%02lld", t / 60, t % 60);
    return buf;
  }

  std::string render(double now) const {
    const double elapsed = now - start_;
    const double rate = elapsed > 0 ? static_cast<double>(count_) / elapsed : 0;
    std::string s = o_.description.empty() ? "" : o_.description + ": ";
    char buf[128];
    if (total_) {
      const double frac = std::min(1.0, static_cast<double>(count_) / static_cast<double>(total_));
      const int filled = static_cast<int>(frac * o_.width);
      std::snprintf(buf, sizeof buf, "%3d%% ", static_cast<int>(frac * 100));
      s += buf;
      s += "[" + std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(o_.width - filled), '.') + "] ";
      const double eta = rate > 0 ? static_cast<double>(total_ - std::min(count_, total_)) / rate : -1;
      std::snprintf(buf, sizeof buf, "%lld/%lld [%s<%s, %.1f it/s]", static_cast<long long>(count_),
                    static_cast<long long>(total_), clock_text(elapsed).c_str(), clock_text(eta).c_str(), rate);
    } else {
      std::snprintf(buf, sizeof buf, "%lld [%s, %.1f it/s]", static_cast<long long>(count_), clock_text(elapsed).c_str(), rate);
    }
    s += buf;
    for (const auto& [k, v] : fields_) {
      std::snprintf(buf, sizeof buf, " %s=%.4g", k.c_str(), v);
      s += buf;
    }
    return s;
  }

  void draw(double now, bool final) {
    last_draw_ = now;
    drawn_count_ = count_;
    if (!o_.stream) return;
    const std::string s = render(now);
    // \r returns to the line start and ESC[K clears what a longer previous line left behind.
    if (terminal_) std::fprintf(o_.stream, "\r%s\x1b[K%s", s.c_str(), final ? "\n" : "");
    else std::fprintf(o_.stream, "%s\n", s.c_str());
    std::fflush(o_.stream);
  }

  std::int64_t total_, count_ = 0, drawn_count_ = -1;
  ProgressOptions o_;
  double start_, last_draw_;  // now_seconds()
  bool terminal_ = false, closed_ = false;
  int last_percent_ = 0;
  std::vector<std::pair<std::string, double>> fields_;
};

}  // namespace ink::io
