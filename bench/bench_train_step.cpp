// Training-step speed of ink's three models at batch 64, fp32, on random Fashion-MNIST-shaped
// data [64, 1, 28, 28]: one classifier step, one DCGAN step (a discriminator update, then a
// generator update) and one VAE step, each forward + loss + backward + Adam.
// bench/run_train_step.sh runs it against the same models in PyTorch
// (bench/reference/train_step_torch.py), interleaved, and prints the ink / PyTorch table.
//
// Flags of its own (the rest go to Google Benchmark):
//   --threads=N      ink::set_num_threads(N) (default: OpenMP's default, OMP_NUM_THREADS or cores)
//   --steps=N        timed steps per model (default 20); --warmup=N untimed steps before (default 3)
//   --model=NAME     classifier, dcgan or vae: only that model (default: all three)
//   --params         print "<model> <parameter count>" for each model and exit
//   --rss-steps=N    run N steps of --model and exit, nothing else, so that /usr/bin/time -f %M
//                    reads the peak RSS of a training run
//
// The steps mirror examples/train_classifier.cpp, train_dcgan.cpp and train_vae.cpp. The
// batch is drawn once, before the timing; the DCGAN's noise is drawn every step, as there.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <ink/ink.hpp>
#include <ink/models.hpp>

using namespace ink;

namespace {

constexpr index_t kBatch = 64;

// One classifier step, as train_classifier: cross entropy on class logits, Adam (lr 1e-3).
struct ClassifierStep {
  static constexpr const char* kName = "classifier";
  Generator gen{1};
  models::Classifier<float> net;
  optim::Adam<float> opt{net.parameters(), {.lr = 1e-3}};
  Tensor<float> x = rand<float>({kBatch, 1, 28, 28}, gen);
  Tensor<std::int64_t> y = randint(0, 10, {kBatch}, gen);

  index_t parameter_count() const { return net.parameter_count(); }
  void step() {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy(net(x), y);
    loss.backward();
    opt.step();
  }
};

// One DCGAN step, as train_dcgan (not WGAN-GP): D on real and detached fake images with
// BCE-with-logits, then G through D; Adam (lr 2e-4, beta1 0.5) for both.
struct DcganStep {
  static constexpr const char* kName = "dcgan";
  Generator gen{1};
  models::DcganConfig config{};
  models::DcganGenerator<float> g{config, gen};
  models::DcganDiscriminator<float> d{config, gen};
  optim::Adam<float> opt_g{g.parameters(), {.lr = 2e-4, .beta1 = 0.5, .beta2 = 0.999}};
  optim::Adam<float> opt_d{d.parameters(), {.lr = 2e-4, .beta1 = 0.5, .beta2 = 0.999}};
  Tensor<float> real = rand<float>({kBatch, 1, 28, 28}, gen) * 2.f - 1.f;  // images in [-1, 1]

  index_t parameter_count() const { return g.parameter_count() + d.parameter_count(); }
  void step() {
    const Tensor<float> fake = g(randn<float>({kBatch, config.latent}, gen));
    opt_d.zero_grad();
    Tensor<float> loss_d = binary_cross_entropy_with_logits(d(real), ones<float>({kBatch})) +
                           binary_cross_entropy_with_logits(d(fake.detach()), zeros<float>({kBatch}));
    loss_d.backward();
    opt_d.step();
    opt_g.zero_grad();
    Tensor<float> loss_g = binary_cross_entropy_with_logits(d(fake), ones<float>({kBatch}));
    loss_g.backward();
    opt_g.step();
  }
};

// One VAE step, as train_vae: the negative ELBO of ConvVae::loss, Adam (lr 1e-3).
struct VaeStep {
  static constexpr const char* kName = "vae";
  Generator gen{1};
  models::ConvVae<float> vae;
  optim::Adam<float> opt{vae.parameters(), {.lr = 1e-3}};
  Tensor<float> x = rand<float>({kBatch, 1, 28, 28}, gen);  // Bernoulli targets in [0, 1]

  index_t parameter_count() const { return vae.parameter_count(); }
  void step() {
    opt.zero_grad();
    Tensor<float> loss = models::ConvVae<float>::loss(vae.run(x, gen), x);
    loss.backward();
    opt.step();
  }
};

template <class M>
void train_step(benchmark::State& state, int warmup) {
  auto m = std::make_unique<M>();
  for (int i = 0; i < warmup; ++i) m->step();
  for (auto _ : state) m->step();
  state.counters["threads"] = get_num_threads();
  state.counters["params"] = static_cast<double>(m->parameter_count());
}

template <class M>
void run_steps(long steps) {
  M m;
  for (long i = 0; i < steps; ++i) m.step();
}

// The value of --name=value, or nullptr.
const char* flag_value(const char* arg, const char* name) {
  const std::size_t n = std::strlen(name);
  return std::strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  long steps = 20, warmup = 3, rss_steps = 0;
  int threads = 0;
  bool params = false;
  std::string model;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (const char* v = flag_value(argv[i], "--threads")) threads = std::atoi(v);
    else if (const char* v = flag_value(argv[i], "--steps")) steps = std::atol(v);
    else if (const char* v = flag_value(argv[i], "--warmup")) warmup = std::atol(v);
    else if (const char* v = flag_value(argv[i], "--rss-steps")) rss_steps = std::atol(v);
    else if (const char* v = flag_value(argv[i], "--model")) model = v;
    else if (std::strcmp(argv[i], "--params") == 0) params = true;
    else rest.push_back(argv[i]);
  }
  if (model != "" && model != "classifier" && model != "dcgan" && model != "vae") {
    std::fprintf(stderr, "bench_train_step: --model must be classifier, dcgan or vae, got '%s'\n", model.c_str());
    return 2;
  }
  if (threads > 0) set_num_threads(threads);

  if (params) {
    std::printf("classifier %lld\n", static_cast<long long>(ClassifierStep().parameter_count()));
    std::printf("dcgan %lld\n", static_cast<long long>(DcganStep().parameter_count()));
    std::printf("vae %lld\n", static_cast<long long>(VaeStep().parameter_count()));
    return 0;
  }
  if (rss_steps > 0) {
    if (model.empty()) {
      std::fprintf(stderr, "bench_train_step: --rss-steps needs --model\n");
      return 2;
    }
    if (model == "classifier") run_steps<ClassifierStep>(rss_steps);
    else if (model == "dcgan") run_steps<DcganStep>(rss_steps);
    else run_steps<VaeStep>(rss_steps);
    return 0;
  }

  // Names are train_step/<model>/threads:<t>; run_train_step.sh parses them.
  const std::string suffix = "/threads:" + std::to_string(get_num_threads());
  auto add = [&](const char* name, void (*fn)(benchmark::State&, int)) {
    if (!model.empty() && model != name) return;
    benchmark::RegisterBenchmark(("train_step/" + std::string(name) + suffix).c_str(), fn, static_cast<int>(warmup))
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(steps);
  };
  add(ClassifierStep::kName, train_step<ClassifierStep>);
  add(DcganStep::kName, train_step<DcganStep>);
  add(VaeStep::kName, train_step<VaeStep>);

  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
