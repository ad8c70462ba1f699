// small_cnn.cpp written with libtorch's C++ API (Debian's libtorch-dev), line for line: the same
// network, optimiser and loop. bench/compile_time.sh compiles it beside ink's version so that
// the two compile times are measured in the same run, on the same (shared, noisy) host.
#include <cstdio>

#include <torch/torch.h>

int main() {
  torch::manual_seed(0);
  namespace nn = torch::nn;
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 16, 3).padding(1)), nn::BatchNorm2d(16),
                     nn::ReLU(), nn::MaxPool2d(2),
                     nn::Conv2d(nn::Conv2dOptions(16, 32, 3).padding(1)), nn::BatchNorm2d(32),
                     nn::ReLU(), nn::MaxPool2d(2), nn::Flatten(), nn::Linear(32 * 7 * 7, 10));
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  torch::Tensor images = torch::randn({16, 1, 28, 28});
  torch::Tensor labels = torch::randint(0, 10, {16});
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(images), labels);
    loss.backward();
    opt.step();
    std::printf("step %d loss %.4f\n", step, loss.item<float>());
  }
}
