// Training checkpoints: a model's state_dict ("model.*"), its optimiser's ("optim.*"), the epoch
// and a generator's exact state in one safetensors file, written atomically so that a crash
// mid-save leaves the previous checkpoint intact; loading resumes training exactly.
// Part of io/, above nn/ and optim/.
#pragma once
#include <bit>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ink/core/random.hpp"
#include "ink/io/safetensors.hpp"
#include "ink/optim/optimizer.hpp"

namespace ink::io {

namespace detail {

inline std::string rng_to_string(const Generator::State& s) {
  std::string out;
  for (const std::uint64_t w : s.words) out += std::to_string(w) + ",";
  return out + std::to_string(s.has_spare_normal) + "," + std::to_string(std::bit_cast<std::uint64_t>(s.spare_normal));
}

inline Generator::State rng_from_string(std::string_view text, const std::string& ctx) {
  std::uint64_t v[6];
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int i = 0; i < 6; ++i) {
    const auto [next, ec] = std::from_chars(p, end, v[i]);
    INK_CHECK(IOError, ec == std::errc() && (i < 5 ? next < end && *next == ',' : next == end), ctx,
              ": malformed generator state \"", std::string(text), "\"");
    p = next + 1;
  }
  Generator::State s;
  for (int i = 0; i < 4; ++i) s.words[i] = v[i];
  s.has_spare_normal = v[4];
  s.spare_normal = std::bit_cast<double>(v[5]);
  return s;
}

// Shortest text that reads back as the same double.
inline std::string double_to_string(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// The optimiser's load_state_dict trusts its keys; a checkpoint's must be checked first.
inline bool valid_optimizer_key(const std::string& k) {
  if (k == "steps" || k.rfind("state.", 0) == 0) return true;
  if (k.rfind("group.", 0) != 0 || k.size() <= 9 || k.compare(k.size() - 3, 3, ".lr") != 0) return false;
  const std::string digits = k.substr(6, k.size() - 9);
  return digits.size() <= 9 && digits.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace detail

// Saves model and optimiser state, `epoch` and `generator`'s state (the generator whose draws
// the next epoch depends on: shuffling, dropout, augmentation) to `path`, atomically. `extra`
// adds user metadata; its keys must not start with "ink." (ValueError).
template <class T>
void save_checkpoint(const std::filesystem::path& path, const nn::Module<T>& model, const optim::Optimizer<T>& optimizer,
                     std::int64_t epoch, const Generator& generator = default_generator(), const Metadata& extra = {}) {
  nn::NamedTensors<T> all;
  for (auto& [n, t] : model.state_dict()) all.emplace_back("model." + n, t);
  std::size_t groups = 0;
  for (auto& [n, t] : optimizer.state_dict()) {
    groups += n.rfind("group.", 0) == 0;
    all.emplace_back("optim." + n, t);
  }
  Metadata meta = extra;
  for (const auto& [k, v] : extra)
    INK_CHECK(ValueError, k.rfind("ink.", 0) != 0, "save_checkpoint: metadata key \"", k, "\" uses the reserved prefix ink.");
  meta["ink.format"] = "checkpoint-1";
  meta["ink.epoch"] = std::to_string(epoch);
  meta["ink.rng"] = detail::rng_to_string(generator.get_state());
  // The optimiser's state_dict holds learning rates as T; float would round 0.01, so the exact
  // doubles go in the metadata too and win on load.
  std::string lrs;
  for (std::size_t g = 0; g < groups; ++g) {
    if (g) lrs += ',';
    lrs += detail::double_to_string(optimizer.lr(g));
  }
  meta["ink.lr"] = lrs;
  save_safetensors(path, all, meta);
}

// Restores what save_checkpoint wrote into `model`, `optimizer` and `generator`; returns the
// saved epoch, and the user metadata in `*extra` when given. The file is read and checked in
// full before anything is modified: a malformed file (IOError) leaves all three untouched. A
// file that does not fit the model or optimiser fails in their load_state_dict (ShapeError from
// the model, which then is untouched; ValueError from the optimiser).
template <class T>
std::int64_t load_checkpoint(const std::filesystem::path& path, nn::Module<T>& model, optim::Optimizer<T>& optimizer,
                             Generator& generator = default_generator(), Metadata* extra = nullptr) {
  const std::string ctx = "load_checkpoint: '" + path.string() + "'";
  Metadata meta;
  const nn::NamedTensors<T> all = load_safetensors<T>(path, &meta);
  INK_CHECK(IOError, meta["ink.format"] == "checkpoint-1", ctx, " is not an ink checkpoint (no ink.format metadata)");
  std::int64_t epoch = 0;
  const std::string& e = meta["ink.epoch"];
  const auto [end, ec] = std::from_chars(e.data(), e.data() + e.size(), epoch);
  INK_CHECK(IOError, ec == std::errc() && end == e.data() + e.size() && !e.empty(), ctx, ": malformed epoch \"", e, "\"");
  const Generator::State rng = detail::rng_from_string(meta["ink.rng"], ctx);
  std::vector<double> lrs;
  for (std::string_view rest = meta["ink.lr"]; !rest.empty();) {
    double lr = 0;
    const auto [next, err] = std::from_chars(rest.data(), rest.data() + rest.size(), lr);
    INK_CHECK(IOError, err == std::errc() && (next == rest.data() + rest.size() || *next == ','), ctx,
              ": malformed learning rates \"", meta["ink.lr"], "\"");
    lrs.push_back(lr);
    rest.remove_prefix(static_cast<std::size_t>(next - rest.data()) + (next == rest.data() + rest.size() ? 0 : 1));
  }
  nn::NamedTensors<T> model_state, optim_state;
  for (const auto& [n, t] : all) {
    if (n.rfind("model.", 0) == 0) {
      model_state.emplace_back(n.substr(6), t);
    } else if (n.rfind("optim.", 0) == 0 && detail::valid_optimizer_key(n.substr(6))) {
      INK_CHECK(IOError, n.rfind("optim.state.", 0) == 0 || t.numel() == 1, ctx, ": \"", n, "\" must hold one value");
      optim_state.emplace_back(n.substr(6), t);
    } else {
      throw IOError(ctx + ": unexpected tensor \"" + n + "\"");
    }
  }
  model.load_state_dict(model_state);
  optimizer.load_state_dict(optim_state);
  if (lrs.size() == optimizer.param_groups().size())
    for (std::size_t g = 0; g < lrs.size(); ++g) optimizer.set_lr(lrs[g], g);
  generator.set_state(rng);
  if (extra) {
    for (const auto& [k, v] : meta)
      if (k.rfind("ink.", 0) != 0) (*extra)[k] = v;
  }
  return epoch;
}

}  // namespace ink::io
