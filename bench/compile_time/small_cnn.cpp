// The program whose compile time bench/compile_time.sh measures: define and train a small CNN
// (two 3x3 conv blocks, as a user would write one) with ink.
#include <cstdio>

#include <ink/ink.hpp>

using namespace ink;

int main() {
  manual_seed(0);
  nn::Sequential<> net(std::make_shared<nn::Conv2d<>>(1, 16, 3, Conv2dOptions{.padding = 1}),
                       std::make_shared<nn::BatchNorm2d<>>(16), std::make_shared<nn::ReLU<>>(),
                       std::make_shared<nn::MaxPool2d<>>(2),
                       std::make_shared<nn::Conv2d<>>(16, 32, 3, Conv2dOptions{.padding = 1}),
                       std::make_shared<nn::BatchNorm2d<>>(32), std::make_shared<nn::ReLU<>>(),
                       std::make_shared<nn::MaxPool2d<>>(2), std::make_shared<nn::Flatten<>>(),
                       std::make_shared<nn::Linear<>>(32 * 7 * 7, 10));
  optim::Adam<> opt(net.parameters(), {.lr = 1e-3});
  Tensor<float> images = randn<float>({16, 1, 28, 28});
  Tensor<std::int64_t> labels = randint(0, 10, {16});
  for (int step = 0; step < 3; ++step) {
    opt.zero_grad();
    Tensor<float> loss = cross_entropy(net(images), labels);
    loss.backward();
    opt.step();
    std::printf("step %d loss %.4f\n", step, loss.item());
  }
}
